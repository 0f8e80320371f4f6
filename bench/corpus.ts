// Signed benchmark corpora: a realistic mix of NIP-90 market traffic and notes, generated once and cached as
// JSONL (one event per line, "id" first) under bench/.cache/, keyed by scenario, size, seed and generator version.
//
// The seed fixes the shape (who posts what, which kinds, tags, times); the keys are fresh random throwaway
// keys, so two caches with the same seed hold different ids. Delete the cache file to get a new corpus.
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { NostrEvent } from '../nips/nip01.js'
import { bulkSigner, type BulkSigner, type Template } from './bulk-sign.js'
import { rng, zipf, type Rng } from './random.js'

/** Bump when the generator changes, so old caches are not mistaken for new ones. */
const VERSION = 3
const CHUNK = 10_000
const RELAY_HINT = 'wss://relay.example.com'

export type CorpusShape = {
  /** Cache name prefix (the scenario). */
  readonly name: string
  readonly n: number
  readonly seed: number
  /** Authors of notes and job requests, drawn with a Zipf law (a few post most). */
  readonly customers: number
  /** Authors of job results, feedback and heartbeats. */
  readonly providers: number
  /** Seconds between the oldest and the newest event; the newest is the generation time. */
  readonly span: number
  /** Kind-1 notes only, instead of the market's mix. */
  readonly notesOnly?: boolean
}

/**
 * The mix, by share of events: notes (kind 1) 30%, job requests (5xxx) 20%, results (6xxx) 18%,
 * feedback (7000) 22%, provider heartbeats (30333, a distinct `d` each so none replaces another) 10%.
 */
const MIX: readonly [number, Role][] = [
  [0.3, 'note'],
  [0.5, 'request'],
  [0.68, 'result'],
  [0.9, 'feedback'],
  [1, 'heartbeat'],
]
type Role = 'note' | 'request' | 'result' | 'feedback' | 'heartbeat'

export const JOB_KINDS = [5000, 5001, 5050, 5100, 5250, 5300, 5302]
export const MODELS = ['llama-3-8b', 'mistral-7b', 'gpt-4o-mini', 'whisper-large', 'sdxl']
const STATUSES = ['processing', 'payment-required', 'success', 'error', 'partial']
const TOPICS = ['nostr', 'dvm', 'bitcoin', 'ai', 'zaps', 'relays', 'music', 'art']
const WORDS = (
  'the a relay job result model prompt summary translate image text audio queue price sats zap note ' +
  'market provider customer request feedback status online capacity fast cheap reliable hello world'
).split(' ')

export const words = (r: Rng, n: number) => Array.from({ length: n }, () => r.pick(WORDS)).join(' ')

/** The cache file of a shape. */
export const corpusPath = (dir: string, s: CorpusShape) => join(dir, `${s.name}-v${VERSION}-n${s.n}-s${s.seed}.jsonl`)

export type Planned = { readonly author: BulkSigner; tpl: Template }
type Request = { id: string; pubkey: string; kind: number; json: string; input: string; bid: string; p?: string }

/** Generates the corpus unless its cache file exists; returns the file. */
export async function ensureCorpus(dir: string, shape: CorpusShape, log: (s: string) => void): Promise<string> {
  const file = corpusPath(dir, shape)
  if (existsSync(file)) return file
  mkdirSync(dir, { recursive: true })
  const started = performance.now()
  log(`generating corpus ${file} (${shape.n} events; signing is done once and cached)`)
  const tmp = `${file}.${process.pid}.tmp`
  const out = createWriteStream(tmp)
  const r = rng(shape.seed)
  const customerRank = zipf(shape.customers, 1.1)
  const customers: (BulkSigner | undefined)[] = []
  const providers: (BulkSigner | undefined)[] = []
  const customer = (i: number) => (customers[i] ??= bulkSigner())
  const providerIndex = new Map<string, number>()
  const provider = (i: number) => {
    let s = providers[i]
    if (!s) providerIndex.set((s = providers[i] = bulkSigner()).pubkey, i)
    return s
  }
  const anyone = () => (r.next() < 0.8 ? customer(customerRank(r)) : provider(r.int(shape.providers))).pubkey
  const newest = Math.floor(Date.now() / 1000)
  const base = newest - shape.span
  const recent: Request[] = [] // the last requests already placed, for feedback to answer
  // Requests no result has answered yet: the market refuses a second result to a delivered job.
  const unanswered: Request[] = []
  const seen = new Set<string>() // ids so far: two equal templates by one author would be one event
  let lastLog = 0

  for (let start = 0; start < shape.n; start += CHUNK) {
    const count = Math.min(CHUNK, shape.n - start)
    const roles: Role[] = []
    const planned: (Planned | undefined)[] = []
    // Phase 1: events that refer to nothing in the corpus.
    for (let j = 0; j < count; j++) {
      const pos = start + j
      const u = r.next()
      const role = shape.notesOnly ? 'note' : MIX.find(([edge]) => u < edge)![1]
      roles.push(role)
      const created_at = base + Math.floor((pos * shape.span) / shape.n)
      if (role === 'note') {
        const tags: string[][] = []
        if (r.next() < 0.25) tags.push(['p', anyone()])
        if (r.next() < 0.3) tags.push(['t', r.pick(TOPICS)])
        planned.push({
          author: customer(customerRank(r)),
          tpl: { kind: 1, created_at, tags, content: words(r, 5 + r.int(40)) },
        })
      } else if (role === 'request') {
        const input = words(r, 4 + r.int(20))
        const tags = [
          ['i', input, 'text'],
          ['param', 'model', r.pick(MODELS)],
          ['param', 'max_tokens', String(128 << r.int(4))],
          ['bid', String(1000 * (1 + r.int(50)))],
          ['relays', RELAY_HINT],
          ['output', 'text/plain'],
        ]
        if (r.next() < 0.6) tags.push(['p', provider(r.int(shape.providers)).pubkey])
        planned.push({
          author: customer(customerRank(r)),
          tpl: { kind: r.pick(JOB_KINDS), created_at, tags, content: '' },
        })
      } else if (role === 'heartbeat') {
        const tags = [
          ['d', `heartbeat-${shape.seed}-${pos}`],
          ['status', 'online'],
          ['capacity', String(r.int(8))],
          ['k', '5100'],
          ['k', '5300'],
          ['price', `5100:${10 + r.int(20)},5300:${20 + r.int(40)}`],
        ]
        planned.push({ author: provider(r.int(shape.providers)), tpl: { kind: 30333, created_at, tags, content: '' } })
      } else planned.push(undefined)
    }
    const signed = signPlanned(planned, seen)
    // Phase 2: results and feedback answer a request placed before them (phase 1 signed this chunk's requests).
    for (let j = 0; j < count; j++) {
      const role = roles[j]!
      if (role === 'request') {
        const e = signed[j]!
        const tag = (name: string) => e.tags.find(t => t[0] === name)?.[1]
        const req: Request = {
          id: e.id,
          pubkey: e.pubkey,
          kind: e.kind,
          json: JSON.stringify(e),
          input: tag('i')!,
          bid: tag('bid')!,
          p: tag('p'),
        }
        recent.push(req)
        if (recent.length > 500) recent.shift()
        unanswered.push(req)
        if (unanswered.length > 500) unanswered.shift()
        continue
      }
      if (role !== 'result' && role !== 'feedback') continue
      const created_at = base + Math.floor(((start + j) * shape.span) / shape.n)
      const pool = role === 'result' ? unanswered : recent
      const req = pool.length ? r.pick(pool) : undefined
      if (req && role === 'result') unanswered.splice(unanswered.indexOf(req), 1)
      if (!req) {
        // Nothing to answer yet (the very first events): a note instead.
        planned[j] = { author: customer(customerRank(r)), tpl: { kind: 1, created_at, tags: [], content: words(r, 8) } }
        continue
      }
      const author = req.p !== undefined ? provider(providerIndex.get(req.p)!) : provider(r.int(shape.providers))
      const tags =
        role === 'result'
          ? [
              ['request', req.json],
              ['e', req.id, RELAY_HINT],
              ['p', req.pubkey],
              ['i', req.input, 'text'],
              ['amount', req.bid],
            ]
          : [
              ['status', r.pick(STATUSES), ''],
              ['e', req.id, RELAY_HINT],
              ['p', req.pubkey],
            ]
      if (role === 'feedback' && r.next() < 0.3) tags.push(['amount', req.bid])
      const content = role === 'result' ? words(r, 10 + r.int(60)) : ''
      planned[j] = { author, tpl: { kind: role === 'result' ? req.kind + 1000 : 7000, created_at, tags, content } }
    }
    const answers = signPlanned(
      planned.map((p, j) => (roles[j] === 'result' || roles[j] === 'feedback' ? p : undefined)),
      seen,
    )
    const lines = signed.map((e, j) => JSON.stringify(answers[j] ?? e)).join('\n') + '\n'
    if (!out.write(lines)) await new Promise<void>(resolve => out.once('drain', () => resolve()))
    const done = start + count
    if (performance.now() - lastLog > 5000 || done === shape.n) {
      lastLog = performance.now()
      log(`  ${done}/${shape.n} events signed (${((performance.now() - started) / 1000).toFixed(0)} s)`)
    }
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())))
  renameSync(tmp, file)
  return file
}

/**
 * Signs each planned template with its author's signer, grouping by author; the result keeps the order.
 * A template that signs to an id in `seen` (the same author sending the same thing in the same second, e.g.
 * two equal feedback events) gets a distinguishing suffix in its content and is signed again.
 */
export function signPlanned(planned: readonly (Planned | undefined)[], seen: Set<string>): (NostrEvent | undefined)[] {
  const out: (NostrEvent | undefined)[] = new Array(planned.length).fill(undefined)
  let todo = planned.flatMap((p, i) => (p ? [i] : []))
  for (let round = 1; todo.length; round++) {
    const byAuthor = new Map<BulkSigner, number[]>()
    for (const i of todo) {
      const list = byAuthor.get(planned[i]!.author)
      if (list) list.push(i)
      else byAuthor.set(planned[i]!.author, [i])
    }
    for (const [author, idx] of byAuthor) {
      const events = author.signAll(idx.map(i => planned[i]!.tpl))
      idx.forEach((i, k) => (out[i] = events[k]))
    }
    const again: number[] = []
    for (const i of todo) {
      if (!seen.has(out[i]!.id)) seen.add(out[i]!.id)
      else {
        const tpl = planned[i]!.tpl
        planned[i]!.tpl = { ...tpl, content: `${tpl.content} (${round})` }
        again.push(i)
      }
    }
    todo = again
  }
  return out
}

/** Reads lines [from, from + count) of a corpus file. */
export async function readCorpusLines(file: string, from = 0, count = Infinity): Promise<string[]> {
  const lines: string[] = []
  let i = 0
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity })
  for await (const line of rl) {
    if (i++ < from || line === '') continue
    lines.push(line)
    if (lines.length >= count) {
      rl.close()
      break
    }
  }
  return lines
}

/** Calls `each` with every event of a corpus file, in order. */
export async function eachCorpusEvent(file: string, each: (e: NostrEvent, i: number) => void): Promise<number> {
  let i = 0
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity }))
    if (line !== '') each(JSON.parse(line) as NostrEvent, i++)
  return i
}

/** The id of a corpus line: lines are written with "id" first, so it is a slice; anything else is parsed. */
export const lineId = (line: string): string =>
  line.startsWith('{"id":"') ? line.slice(7, 71) : (JSON.parse(line) as NostrEvent).id
