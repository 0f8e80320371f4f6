// `agora review|trust|report|providers`: what customers and providers say about each other, and who is on offer.
import { ledgerOf, publishOrThrow, relayKeys, fetchEvent } from '../customer.js'
import { ClientError } from '../errors.js'
import { parsePubkey } from '../keys.js'
import { ASSERTION, HANDLER, HEARTBEAT, report, review, tagOf, tagsOf, trust } from '../market.js'
import { connect, CONNECTION, logger } from './common.js'
import { int, readOptions, str, type Spec, type Values } from './options.js'
import type { Pool } from '../pool.js'

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

/** Reviews the other party of a delivered job: the provider when we were its customer, else the customer. */
export const reviewCommand = (argv: string[]) =>
  withPool(argv, 'review', async (pool, v, job) => {
    if (!job) throw new ClientError('review needs the job id', 2)
    const rating = int(v, 'rating', { min: 1, max: 5 })
    if (rating === undefined) throw new ClientError('review needs --rating 1-5', 2)
    const entry = await ledgerOf(pool, job)
    const request = await fetchEvent(pool, job, 'job')
    const customer = (entry && tagOf(entry, 'customer')) ?? tagOf(request, 'P') ?? request.pubkey
    const provider = entry && tagOf(entry, 'provider')
    if (!provider) throw new ClientError(`job ${job} is not delivered: there is no one to review yet`)
    const other = pool.signer.pubkey === customer ? provider : customer
    const e = await publishOrThrow(pool, review(job, other, rating, request.kind, str(v, 'text') ?? ''), 'review')
    console.log(e.id)
    return 0
  })

export const trustCommand = (argv: string[]) =>
  withPool(argv, 'trust', async (pool, _v, key) => {
    if (!key) throw new ClientError('trust needs the key to trust', 2)
    console.log((await publishOrThrow(pool, trust(parsePubkey(key)), 'trust')).id)
    return 0
  })

export const reportCommand = (argv: string[]) =>
  withPool(argv, 'report', async (pool, v, key) => {
    if (!key) throw new ClientError('report needs the key to report', 2)
    const e = await publishOrThrow(
      pool,
      report(parsePubkey(key), str(v, 'type') ?? 'other', str(v, 'text') ?? ''),
      'report',
    )
    console.log(e.id)
    return 0
  })

/** A provider as the list shows it (one JSON line each with --json). */
export type ProviderRow = {
  pubkey: string
  name: string
  kinds: number[]
  price: string
  online: boolean
  rank: number
  score: number
  standing: number
  flagged: boolean
  features: string[]
}

/** Lists providers from their 31990 and 30333 and the relay's 30382, best rank first. */
export const providersCommand = (argv: string[]) =>
  withPool(argv, 'providers', async (pool, v) => {
    const kind = int(v, 'kind', { min: 5000, max: 5999 })
    const handlers = await pool.query([{ kinds: [HANDLER], ...(kind ? { '#k': [String(kind)] } : {}) }])
    const authors = [...new Set(handlers.map(h => h.pubkey))]
    if (!authors.length) {
      console.error('agora providers: no providers found')
      return 0
    }
    const keys = await relayKeys(pool)
    const [beats, assertions] = await Promise.all([
      pool.query([{ kinds: [HEARTBEAT], authors }]),
      keys.length ? pool.query([{ kinds: [ASSERTION], authors: keys, '#d': authors }]) : Promise.resolve([]),
    ])
    const now = Math.floor(Date.now() / 1000)
    const rows: ProviderRow[] = authors.map(pubkey => {
      const h = handlers.find(e => e.pubkey === pubkey)!
      const beat = beats.find(e => e.pubkey === pubkey)
      const a = assertions.find(e => tagOf(e, 'd') === pubkey)
      const content = parse(h.content)
      const skill = (content['skill'] ?? {}) as { features?: unknown }
      const num = (name: string) => Number((a && tagOf(a, name)) ?? 0)
      return {
        pubkey,
        name: typeof content['name'] === 'string' ? content['name'] : '',
        kinds: tagsOf(h, 'k').map(t => Number(t[1])),
        price: (beat && tagOf(beat, 'price')) ?? '',
        // The relay's view when it publishes one; else a heartbeat within the last 10 minutes.
        online: a ? num('online') === 1 : !!beat && tagOf(beat, 'status') === 'online' && now - beat.created_at < 600,
        rank: num('rank'),
        score: num('score'),
        standing: num('standing'),
        flagged: num('flagged') === 1,
        features: Array.isArray(skill.features) ? skill.features.map(String) : [],
      }
    })
    const feature = str(v, 'feature')
    const shown = rows
      .filter(r => (!v['online'] || r.online) && (!feature || r.features.includes(feature)))
      .sort((a, b) => b.rank - a.rank || b.score - a.score)
    for (const r of shown)
      console.log(
        v['json']
          ? JSON.stringify(r)
          : `${r.pubkey}  ${r.name || '-'}  kinds ${r.kinds.join(',')}  price ${r.price || '-'}  ${r.online ? 'online' : 'offline'}  rank ${r.rank}  standing ${r.standing}${r.flagged ? '  FLAGGED' : ''}`,
      )
    return 0
  })

function parse(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text)
    return v && typeof v === 'object' ? v : {}
  } catch {
    return {}
  }
}
