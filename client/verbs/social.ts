// What customers and providers say about each other (reviews, trust, reports), and who is on offer: the providers'
// 31990 and 30333 with the relay's 30382 standing of each.
import type { NostrEvent } from '../../nips/nip01.js'
import { fetchEvent, ledgerOf, publishOrThrow, relayKeys } from '../customer.js'
import { ClientError } from '../errors.js'
import { ASSERTION, HANDLER, HEARTBEAT, report, review, tagOf, tagsOf, trust } from '../market.js'
import type { Pool } from '../pool.js'

/** Reviews the other party of a delivered job: the provider when we were its customer, else the customer. */
export async function reviewJob(pool: Pool, job: string, rating: number, text = ''): Promise<NostrEvent> {
  const entry = await ledgerOf(pool, job)
  const request = await fetchEvent(pool, job, 'job')
  const customer = (entry && tagOf(entry, 'customer')) ?? tagOf(request, 'P') ?? request.pubkey
  const provider = entry && tagOf(entry, 'provider')
  if (!provider) throw new ClientError(`job ${job} is not delivered: there is no one to review yet`)
  const other = pool.signer.pubkey === customer ? provider : customer
  return publishOrThrow(pool, review(job, other, rating, request.kind, text), 'review')
}

export const trustKey = (pool: Pool, key: string) => publishOrThrow(pool, trust(key), 'trust')

export const reportKey = (pool: Pool, key: string, type = 'other', text = '') =>
  publishOrThrow(pool, report(key, type, text), 'report')

/** A provider as the lists show it. */
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

/** Which providers to list: serving a kind, offering a feature, online now, ranked at least so high. */
export type ProviderFilter = {
  readonly kind?: number | undefined
  readonly feature?: string | undefined
  readonly online?: boolean | undefined
  readonly minRank?: number | undefined
  readonly authors?: readonly string[] | undefined
}

/** Providers from their 31990 and 30333 and the relay's 30382, best rank first. */
export async function listProviders(pool: Pool, f: ProviderFilter = {}): Promise<ProviderRow[]> {
  const handlers = await pool.query([
    {
      kinds: [HANDLER],
      ...(f.kind ? { '#k': [String(f.kind)] } : {}),
      ...(f.authors ? { authors: [...f.authors] } : {}),
    },
  ])
  const authors = [...new Set(handlers.map(h => h.pubkey))]
  if (!authors.length) return []
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
    const content = contentOf(h)
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
  return rows
    .filter(
      r =>
        (!f.online || r.online) &&
        (!f.feature || r.features.includes(f.feature)) &&
        (f.minRank === undefined || r.rank >= f.minRank),
    )
    .sort((a, b) => b.rank - a.rank || b.score - a.score)
}

/** One provider in full: its row, its handler's content (name, about, skill descriptor), heartbeat and 30382 tags. */
export async function providerDetail(pool: Pool, pubkey: string) {
  const [row] = await listProviders(pool, { authors: [pubkey] })
  if (!row) throw new ClientError(`provider ${pubkey} announces no handler (31990) on these relays`)
  const keys = await relayKeys(pool)
  const [handlers, beats, assertions] = await Promise.all([
    pool.query([{ kinds: [HANDLER], authors: [pubkey] }]),
    pool.query([{ kinds: [HEARTBEAT], authors: [pubkey] }]),
    keys.length ? pool.query([{ kinds: [ASSERTION], authors: keys, '#d': [pubkey] }]) : Promise.resolve([]),
  ])
  const tags = (e: NostrEvent | undefined) => (e ? e.tags.filter(t => t[0] !== 'd') : [])
  return {
    ...row,
    handler: handlers[0] ? contentOf(handlers[0]) : {},
    heartbeat: tags(beats[0]),
    standing_assertion: tags(assertions[0]),
  }
}

/** A handler's JSON content ({} when it is not JSON). */
function contentOf(e: NostrEvent): Record<string, unknown> {
  try {
    const v = JSON.parse(e.content)
    return v && typeof v === 'object' ? v : {}
  } catch {
    return {}
  }
}
