// `agora workflow post FILE`: a 5117 built from a JSON file, followed with --wait to its end, printing the last
// step's result.
import { readFileSync } from 'node:fs'
import { fetchEvent, ledgerState, publishOrThrow, relayKeys, waitFor } from '../customer.js'
import { ClientError } from '../errors.js'
import { parsePubkey } from '../keys.js'
import { LEDGER, tagsOf, workflow } from '../market.js'
import { connect, CONNECTION, logger } from './common.js'
import { int, readOptions } from './options.js'

const SPEC = { ...CONNECTION, wait: { type: 'boolean' }, timeout: { type: 'string' } } as const

/** `agora workflow post FILE`: a 5117 from a JSON file, followed to its end with --wait. */
export async function workflowCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = readOptions(argv, SPEC)
  const [verb, file] = positionals
  if (v['help'] || verb !== 'post' || !file) throw new ClientError(`usage: agora workflow post FILE [--wait]`, 2)
  let spec: {
    input?: string
    input_type?: string
    bid_sats?: number
    steps?: { kind: number; provider?: string; description?: string }[]
  }
  try {
    spec = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new ClientError(`${file}: ${(err as Error).message}`, 2)
  }
  if (typeof spec.input !== 'string' || !Array.isArray(spec.steps))
    throw new ClientError(`${file}: needs "input" (text) and "steps" ([{"kind": 5100}, ...])`, 2)
  const log = logger(v, 'workflow')
  const pool = await connect(v, log)
  try {
    const steps = spec.steps.map(s => ({ ...s, ...(s.provider ? { provider: parsePubkey(s.provider) } : {}) }))
    const w = await publishOrThrow(
      pool,
      workflow({
        input: spec.input,
        ...(spec.input_type ? { inputType: spec.input_type } : {}),
        ...(spec.bid_sats ? { bid: spec.bid_sats * 1000 } : {}),
        steps,
      }),
      'workflow',
    )
    log(`workflow ${w.id} posted`)
    if (!v['wait']) {
      console.log(w.id)
      return 0
    }
    const keys = await relayKeys(pool)
    if (!keys.length) throw new ClientError('this relay states no key (NIP-11 self): it runs no workflows')
    const end = await waitFor(
      pool,
      [{ kinds: [LEDGER], authors: keys, '#d': [w.id] }],
      e => {
        log(
          `workflow ${ledgerState(e)}: ${tagsOf(e, 'step')
            .map(s => `${s[1]}:${s[4]}`)
            .join(' ')}`,
        )
        return ['completed', 'failed', 'cancelled'].includes(ledgerState(e) ?? '') ? e : undefined
      },
      int(v, 'timeout', { min: 1, fallback: 600 })! * 1000,
      `end of workflow ${w.id}`,
    )
    if (ledgerState(end) !== 'completed') return 1
    const last = tagsOf(end, 'step').at(-1)!
    console.log((await fetchEvent(pool, last[6]!, 'result')).content)
    return 0
  } finally {
    pool.close()
  }
}
