// The customer's side of a job: post it, follow its feedback, results and ledger entry, and wait for what it
// needs next. The CLI's `job` verbs and an agent's sub-jobs both go through here.
import type { NostrEvent } from '../nips/nip01.js'
import { ClientError } from './errors.js'
import {
  FEEDBACK,
  jobRequest,
  LEDGER,
  SEALED_RESULT,
  SWARM,
  tagOf,
  type RequestOptions,
  type Template,
} from './market.js'
import { refusals, type Pool } from './pool.js'
import type { Filter } from './relay.js'

/** Publishes a template and returns the stored event; a refusal by every relay throws with their messages. */
export async function publishOrThrow(pool: Pool, t: Template, what: string): Promise<NostrEvent> {
  const p = await pool.publish(t)
  if (!p.ok) throw new ClientError(`${what} refused: ${refusals(p)}`)
  return p.event
}

/** Posts a job request (or swarm). */
export const postJob = (pool: Pool, o: RequestOptions): Promise<NostrEvent> =>
  publishOrThrow(pool, jobRequest(o), o.swarm === undefined ? `job request (kind ${o.kind})` : 'swarm request')

/** Everything a job's customer hears about it. */
export type JobWatch = {
  onFeedback?(e: NostrEvent): void
  onResult?(e: NostrEvent): void
  onSealed?(e: NostrEvent): void
  onLedger?(e: NostrEvent): void
}

/** Follows a job: feedback, results (request kind + 1000), sealed results and, from `relayKeys`, its ledger. */
export function watchJob(pool: Pool, request: NostrEvent, relayKeys: readonly string[], h: JobWatch) {
  const resultKind = (request.kind === SWARM ? 5118 : request.kind) + 1000
  const filters: Filter[] = [{ kinds: [FEEDBACK, resultKind, SEALED_RESULT], '#e': [request.id] }]
  if (relayKeys.length) filters.push({ kinds: [LEDGER], authors: [...relayKeys], '#d': [request.id] })
  return pool.subscribe(filters, {
    onevent: e => {
      if (e.kind === FEEDBACK) h.onFeedback?.(e)
      else if (e.kind === resultKind) h.onResult?.(e)
      else if (e.kind === SEALED_RESULT) h.onSealed?.(e)
      else if (e.kind === LEDGER) h.onLedger?.(e)
    },
  })
}

/** The first event matching `filters` for which `pick` returns a value, stored or live, within `ms` (or until `signal` aborts). */
export function waitFor<T>(
  pool: Pool,
  filters: Filter[],
  pick: (e: NostrEvent) => T | undefined,
  ms: number,
  what: string,
  signal?: AbortSignal,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const end = () => {
      clearTimeout(t)
      signal?.removeEventListener('abort', stopped)
      sub.close()
    }
    const stopped = () => {
      end()
      reject(new ClientError(`stopped waiting for ${what}`))
    }
    const t = setTimeout(() => {
      end()
      reject(new ClientError(`no ${what} within ${Math.round(ms / 1000)} s`, 3))
    }, ms)
    const sub = pool.subscribe(filters, {
      onevent: e => {
        const v = pick(e)
        if (v === undefined) return
        end()
        resolve(v)
      },
    })
    if (signal?.aborted) stopped()
    else signal?.addEventListener('abort', stopped)
  })
}

/** The relays' own keys (NIP-11 `self`), whose ledger entries and assertions the client trusts. */
export async function relayKeys(pool: Pool): Promise<string[]> {
  const infos = await Promise.all(pool.relays.map(r => pool.info(r.url)))
  return [...new Set(infos.flatMap(i => (i?.pubkey ? [i.pubkey] : [])))]
}

/** The newest ledger entry (31118) of a job from the relays, or undefined. */
export async function ledgerOf(pool: Pool, job: string): Promise<NostrEvent | undefined> {
  const keys = await relayKeys(pool)
  if (!keys.length) return undefined
  return (await pool.query([{ kinds: [LEDGER], authors: keys, '#d': [job] }]))[0]
}

/** The state a ledger entry names. */
export const ledgerState = (e: NostrEvent | undefined) => (e ? tagOf(e, 'state') : undefined)

/** The job request with this id, from the relays. */
export async function fetchEvent(pool: Pool, id: string, what = 'event'): Promise<NostrEvent> {
  const [e] = await pool.query([{ ids: [id] }])
  if (!e) throw new ClientError(`${what} ${id} is not on ${pool.relays.map(r => r.url).join(', ')}`)
  return e
}
