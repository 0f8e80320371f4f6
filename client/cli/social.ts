// `agora review|trust|report|providers`: what customers and providers say about each other, and who is on offer.
import { ClientError } from '../errors.js'
import { parsePubkey } from '../keys.js'
import type { Pool } from '../pool.js'
import { listProviders, reportKey, reviewJob, trustKey } from '../verbs/social.js'
import { connect, CONNECTION, logger } from './common.js'
import { int, readOptions, str, type Spec, type Values } from './options.js'

const MARKET_USAGE = `agora review JOB --rating 1-5 [--text T]
  agora trust KEY
  agora report KEY [--type spam|fraud|…] [--text T]
  agora providers [--kind N] [--feature F] [--online] [--json]`

const SPEC: Spec = {
  ...CONNECTION,
  rating: { type: 'string' },
  text: { type: 'string' },
  type: { type: 'string' },
  kind: { type: 'string' },
  feature: { type: 'string' },
  online: { type: 'boolean' },
  json: { type: 'boolean' },
}

/** Runs `body` with the parsed flags, the first positional and a connected pool. */
async function withPool(
  argv: string[],
  name: string,
  body: (pool: Pool, v: Values, arg: string | undefined) => Promise<number>,
) {
  const { values: v, positionals } = readOptions(argv, SPEC)
  if (v['help']) {
    console.log(MARKET_USAGE)
    return 0
  }
  const pool = await connect(v, logger(v, name))
  try {
    return await body(pool, v, positionals[0])
  } finally {
    pool.close()
  }
}

/** Reviews the other party of a delivered job. */
export const reviewCommand = (argv: string[]) =>
  withPool(argv, 'review', async (pool, v, job) => {
    if (!job) throw new ClientError('review needs the job id', 2)
    const rating = int(v, 'rating', { min: 1, max: 5 })
    if (rating === undefined) throw new ClientError('review needs --rating 1-5', 2)
    console.log((await reviewJob(pool, job, rating, str(v, 'text') ?? '')).id)
    return 0
  })

export const trustCommand = (argv: string[]) =>
  withPool(argv, 'trust', async (pool, _v, key) => {
    if (!key) throw new ClientError('trust needs the key to trust', 2)
    console.log((await trustKey(pool, parsePubkey(key))).id)
    return 0
  })

export const reportCommand = (argv: string[]) =>
  withPool(argv, 'report', async (pool, v, key) => {
    if (!key) throw new ClientError('report needs the key to report', 2)
    console.log((await reportKey(pool, parsePubkey(key), str(v, 'type'), str(v, 'text'))).id)
    return 0
  })

/** Lists providers, best rank first (one JSON line each with --json). */
export const providersCommand = (argv: string[]) =>
  withPool(argv, 'providers', async (pool, v) => {
    const rows = await listProviders(pool, {
      kind: int(v, 'kind', { min: 5000, max: 5999 }),
      feature: str(v, 'feature'),
      online: v['online'] === true,
    })
    if (!rows.length) console.error('agora providers: no providers found')
    for (const r of rows)
      console.log(
        v['json']
          ? JSON.stringify(r)
          : `${r.pubkey}  ${r.name || '-'}  kinds ${r.kinds.join(',')}  price ${r.price || '-'}  ${r.online ? 'online' : 'offline'}  rank ${r.rank}  standing ${r.standing}${r.flagged ? '  FLAGGED' : ''}`,
      )
    return 0
  })
