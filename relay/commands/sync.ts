// agora sync URL: one NIP-77 reconciliation of the data dir's events with another relay's for one filter, then the
// difference moved (DESIGN §11). What only the remote has is fetched by id and written through the write path: this
// process's writer as `agora import` uses it, or, when a relay holds the data dir, that relay over WebSocket. What
// only we have is published to the remote as EVENTs, and its OKs are counted.
import { existsSync, mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Config } from '../../config/schema.js'
import { reconcile } from '../../client/negentropy.js'
import { fetchRelayInfo } from '../../client/nip11.js'
import { RelayClient, type Filter } from '../../client/relay.js'
import type { NostrEvent } from '../../nips/nip01.js'
import { compileFilter, type CompiledFilter } from '../../nips/nip01-filter.js'
import { databaseFile, listenUrl } from '../app.js'
import { DataDirBusy, lockDataDir, type DataDirLock } from '../datadir-lock.js'
import { openReadDb } from '../store/db.js'
import { createReader, type Row } from '../store/reader.js'
import { chunksOfLines, loadLines } from './import.js'
import { makeProgress, type Progress } from './progress.js'

export type Direction = 'down' | 'up' | 'both'

export type SyncOptions = { readonly filter: Filter; readonly direction: Direction }

/** What a publish run got back: OK true, duplicates, and refusals counted by prefix. */
export type Sent = { accepted: number; duplicate: number; refused: number; refusals: Record<string, number> }

/** What a sync found and moved. */
export type SyncReport = {
  readonly url: string
  /** Events only we hold, and only the remote holds. */
  readonly have: number
  readonly need: number
  /** NIP-77 messages the remote answered, and the negentropy bytes each way (before hex). */
  readonly rounds: number
  readonly sentBytes: number
  readonly receivedBytes: number
  /** Where pulled events went: `writer` (this process held the data dir) or the running relay's URL. */
  readonly via?: string
  /** Pulled: needed events the remote no longer sent, then the write path's answers. */
  readonly down?: { unavailable: number; stored: number; duplicate: number; refused: number }
  /** Pushed: haves no longer stored when their turn came (replaced or deleted meanwhile), then the remote's OKs. */
  readonly up?: Sent & { gone: number }
  readonly seconds: number
}

// Events published at once, each waiting on its OK: the relay pipelines them and answers in order.
const IN_FLIGHT = 200
// Queries for needed events at once (each a REQ of a few filters of ids).
const QUERIES = 4
// Refusals named one by one on stderr, per direction; the rest are counted by prefix.
const NAMED = 10

/** Validates a --filter: a NIP-01 filter object without `limit`, which would cut one side's set and not the other's. */
export function parseSyncFilter(json: string): Filter | string {
  let raw: unknown
  try {
    raw = JSON.parse(json)
  } catch {
    return 'not valid JSON'
  }
  const compiled = compileFilter(raw, { maxValues: Infinity })
  if ('prefix' in compiled) return compiled.reason
  if (compiled.limit !== undefined) return 'a sync filter takes no "limit": both sides reconcile all they hold'
  return raw as Filter
}

/** Reconciles the data dir with the relay at `url` over `opts.filter` and moves the difference. */
export async function sync(cfg: Config, url: string, opts: SyncOptions): Promise<SyncReport> {
  const started = performance.now()
  const dataDir = resolve(cfg.relay.data_dir)
  const down = opts.direction !== 'up'
  const remote = new RelayClient(url)
  // Held through the sync, so that no relay starts writing the dir under this process's writer.
  const hold = down ? holdUnlessRunning(dataDir) : undefined
  try {
    await remote.waitOpen()
    // Without a NIP-11 document, a common relay's limits are assumed.
    const limits = remoteLimits((await fetchRelayInfo(url).catch(() => undefined))?.doc)
    // The whole set, however large and slow to read: this process is the only one waiting on it.
    const local = withStore(
      dataDir,
      r => r.keys(compiled(opts.filter), Math.floor(Date.now() / 1000), 3_600_000, Infinity),
      [],
    )
    const rounds = makeProgress('negentropy rounds')
    const r = await reconcile(remote, opts.filter, local, {
      frameSizeLimit: limits.frame,
      onRound: p => rounds.update(p.rounds),
    })
    rounds.done()
    const base = { url, have: r.have.length, need: r.need.length, rounds: r.rounds }
    const bytes = { sentBytes: r.sentBytes, receivedBytes: r.receivedBytes }
    // Down first: a pulled newer version replaces our older one, which then is not pushed.
    const pulled = down ? await pull(cfg, remote, r.need, limits, hold!) : undefined
    const pushed = opts.direction !== 'down' ? await push(dataDir, remote, r.have) : undefined
    return { ...base, ...bytes, ...pulled, ...(pushed && { up: pushed }), seconds: secondsSince(started) }
  } finally {
    remote.close()
    if (hold && 'release' in hold) hold.release()
  }
}

const secondsSince = (t: number) => Math.round(performance.now() - t) / 1000
const compiled = (f: Filter) => compileFilter(f, { maxValues: Infinity }) as CompiledFilter
const oldestFirst = (a: { created_at: number; id: string }, b: { created_at: number; id: string }) =>
  a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** The data dir's lock, or, when a relay or command holds it, why (pulled events then go to that relay). */
function holdUnlessRunning(dataDir: string): DataDirLock | DataDirBusy {
  mkdirSync(dataDir, { recursive: true })
  try {
    return lockDataDir(dataDir, 'agora sync')
  } catch (err) {
    if (err instanceof DataDirBusy) return err
    throw err
  }
}

/** `fn` over a read-only reader of the store, or `none` when the data dir holds no store yet. */
function withStore<T>(dataDir: string, fn: (reader: ReturnType<typeof createReader>) => T, none: T): T {
  const file = databaseFile(dataDir)
  if (!existsSync(file)) return none
  const reader = createReader(openReadDb(file))
  try {
    return fn(reader)
  } finally {
    reader.close()
  }
}

type Limits = { frame: number; idsPerFilter: number; filtersPerReq: number }

/**
 * Message sizes that fit the remote's NIP-11 limits, or a common relay's (131,072-byte messages, 10 filters) when it
 * publishes none: negentropy frames are hex (twice their bytes), and an id in a filter takes 67 bytes.
 */
export function remoteLimits(doc: Record<string, unknown> | undefined): Limits {
  const lim = (doc?.['limitation'] ?? {}) as Record<string, unknown>
  const num = (v: unknown, d: number) => (typeof v === 'number' && v > 0 ? v : d)
  const message = num(lim['max_message_length'], 131_072)
  const idsPerFilter = Math.min(500, num(lim['max_limit'], 500))
  const fit = Math.floor((message - 200) / (idsPerFilter * 67 + 40))
  return {
    frame: Math.max(4096, Math.min(60_000, Math.floor((message - 1024) / 2))),
    idsPerFilter,
    filtersPerReq: Math.max(1, Math.min(num(lim['max_filters'], 10), fit)),
  }
}

function chunk<T>(xs: readonly T[], n: number): T[][] {
  return Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, (i + 1) * n))
}

/** Runs `fn` over `items` with at most `n` running at once. */
async function eachAtMost<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const run = async () => {
    while (next < items.length) await fn(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, run))
}

/** The remote's events with these ids, by `ids` REQs; only those asked for are kept. */
async function fetchEvents(remote: RelayClient, ids: readonly string[], limits: Limits): Promise<NostrEvent[]> {
  const wanted = new Set(ids)
  const reqs = chunk(
    chunk(ids, limits.idsPerFilter).map(c => ({ ids: c, limit: c.length })),
    limits.filtersPerReq,
  )
  const progress = makeProgress('fetched', ids.length)
  const out = new Map<string, NostrEvent>()
  try {
    await eachAtMost(reqs, QUERIES, async filters => {
      for (const e of await remote.query(filters, 120_000)) if (wanted.has(e.id)) out.set(e.id, e)
      progress.update(out.size)
    })
  } finally {
    progress.done()
  }
  return [...out.values()]
}

/**
 * Fetches what we need and writes it oldest first, as an export reimported would be: a job's request is folded before
 * its result, a deletion after what it deletes. The events wait in memory for that order (NIP-77 gives ids only).
 */
async function pull(
  cfg: Config,
  remote: RelayClient,
  need: readonly string[],
  limits: Limits,
  hold: DataDirLock | DataDirBusy,
): Promise<Pick<SyncReport, 'via' | 'down'>> {
  const events = (await fetchEvents(remote, need, limits)).sort(oldestFirst)
  const unavailable = need.length - events.length
  if (!(hold instanceof DataDirBusy)) {
    const lines = events.map(e => JSON.stringify(e))
    const source = {
      chunks: chunksOfLines(lines),
      progress: makeProgress('written', lines.length),
      name: (n: number) => `down: event ${events[n - 1]!.id}`,
    }
    const r = await loadLines(cfg, source, { verify: true })
    return { via: 'writer', down: { unavailable, stored: r.saved, duplicate: r.duplicates, refused: r.refused } }
  }
  const url = runningRelayUrl(cfg, hold)
  const local = new RelayClient(url)
  try {
    await local.waitOpen().catch((err: Error) => {
      throw new Error(`${hold.message}, and no relay answers at ${url} (${err.message})`)
    })
    const sent = await publishAll(local, events, 'down')
    const down = { unavailable, stored: sent.accepted, duplicate: sent.duplicate, refused: sent.refused }
    return { via: url, down }
  } finally {
    local.close()
  }
}

/** The URL of the relay holding the data dir, from the config's host and port (a wildcard host is reached locally). */
function runningRelayUrl(cfg: Config, busy: DataDirBusy): string {
  const { host, port } = cfg.relay
  if (port === 0) throw new Error(`${busy.message}; its port is 0 in the config: give it with --port`)
  const local = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
  return listenUrl(local, port)
}

/** Publishes our events the remote lacks, oldest first, read raw from the store. */
async function push(dataDir: string, remote: RelayClient, have: readonly string[]): Promise<Sent & { gone: number }> {
  const rows = withStore(dataDir, reader => storedRows(reader, have), []).sort(oldestFirst)
  const sent = await publishAll(
    remote,
    rows.map(r => JSON.parse(r.raw) as NostrEvent),
    'up',
  )
  return { ...sent, gone: have.length - rows.length }
}

/** The stored rows with these ids, whatever their age or kind. */
function storedRows(reader: ReturnType<typeof createReader>, ids: readonly string[]): Row[] {
  const now = Math.floor(Date.now() / 1000)
  return chunk(ids, 500).flatMap(c => reader.query([{ filter: compiled({ ids: c }), limit: c.length }], now, 60_000))
}

/** Publishes `events` in order, IN_FLIGHT at a time, counting the OKs; the first refusals are named on stderr. */
async function publishAll(client: RelayClient, events: readonly NostrEvent[], what: 'up' | 'down'): Promise<Sent> {
  const sent: Sent = { accepted: 0, duplicate: 0, refused: 0, refusals: {} }
  const progress: Progress = makeProgress(what === 'up' ? 'sent' : 'written', events.length)
  try {
    await eachAtMost(events, IN_FLIGHT, async e => {
      const r = await client.publish(e, 120_000)
      if (r.message.startsWith('duplicate:')) sent.duplicate++
      else if (r.ok) sent.accepted++
      else {
        const prefix = /^([a-z-]+):/.exec(r.message)?.[1] ?? 'error'
        sent.refusals[prefix] = (sent.refusals[prefix] ?? 0) + 1
        if (++sent.refused <= NAMED) console.error(`${what}: event ${e.id}: ${r.message}`)
      }
      progress.update(sent.accepted + sent.duplicate + sent.refused)
    })
  } finally {
    progress.done()
  }
  return sent
}

/** The report as the command's last line on stderr. */
export function describeSync(r: SyncReport): string {
  const parts = [`agora: sync with ${r.url}: have ${r.have}, need ${r.need}`]
  if (r.down) {
    const into = r.via === 'writer' ? 'through the writer' : `through the relay at ${r.via}`
    const missing = r.down.unavailable > 0 ? `, ${r.down.unavailable} no longer sent` : ''
    parts.push(
      `down ${into}: stored ${r.down.stored}, duplicate ${r.down.duplicate}, refused ${r.down.refused}${missing}`,
    )
  }
  if (r.up) {
    const by = Object.entries(r.up.refusals).map(([p, n]) => `${p}: ${n}`)
    const gone = r.up.gone > 0 ? `, ${r.up.gone} no longer stored` : ''
    parts.push(
      `up: accepted ${r.up.accepted}, duplicate ${r.up.duplicate}, refused ${r.up.refused}${by.length ? ` (${by.join(', ')})` : ''}${gone}`,
    )
  }
  parts.push(`${r.rounds} rounds, ${r.sentBytes} bytes sent and ${r.receivedBytes} received, ${r.seconds} s`)
  return parts.join('; ')
}
