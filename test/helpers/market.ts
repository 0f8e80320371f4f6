// A relay with the market on, and nostr-tools agents that speak its kinds (docs/market-protocol.md):
// customers, providers, an LNURL server on loopback for zaps, and readers of the relay-signed outputs.
import type { Test } from 'tap'
import Database from 'better-sqlite3'
import type { NostrEvent } from '../../nips/nip01.js'
import { databaseFile, startRelay } from '../../relay/app.js'
import { standingRules } from '../../market/fold.js'
import { rebuildMarket } from '../../market/rebuild.js'
import { MARKET_TABLES } from '../../market/schema.js'
import { connectFor, queryIds, type RawClient } from './client.js'
import { now, type Author } from './events.js'
import { startLnurlServer, type LnurlServer } from './lnurl.js'
import { startTestRelay, type TestRelay } from './relay.js'
import { sleep, waitFor } from './wait.js'

export type Market = TestRelay & { c: RawClient; lnurl: LnurlServer }

/**
 * A relay with the market on, outputs published every 50 ms (each provider's as often), standing computed after
 * every commit that changed its inputs, and an LNURL server it may reach on loopback.
 */
export async function startMarket(
  t: Test,
  flags: Record<string, string | number | boolean | readonly string[]> = {},
): Promise<Market> {
  const r = await startTestRelay(t, {
    'market.enabled': true,
    'market.allow_loopback': true,
    'market.publish_interval': 50,
    'market.assertion_interval': 0,
    'market.standing_interval': 0,
    ...flags,
  })
  const lnurl = await startLnurlServer()
  t.teardown(() => lnurl.close())
  return { ...r, c: await connectFor(t, r.url), lnurl }
}

/** Flags that put these keys in `market.trust_roots`: each has full standing (market/standing.ts). */
export const roots = (...keys: { pubkey: string }[]) => ({ 'market.trust_roots': keys.map(k => k.pubkey) })

/** The same relay stopped and started again on its store (same key, same config, a new port). */
export async function restartMarket<M extends Market>(t: Test, m: M): Promise<M> {
  await m.relay.close()
  const relay = await startRelay(m.cfg)
  t.teardown(() => relay.close())
  return { ...m, relay, url: relay.url, c: await connectFor(t, relay.url) }
}

export const request = (
  customer: Author,
  o: { bid?: number; targets?: string[]; kind?: number; tags?: string[][] } = {},
) =>
  customer.sign({
    kind: o.kind ?? 5100,
    tags: [
      ['i', 'summarise this', 'text'],
      ...(o.bid === undefined ? [] : [['bid', String(o.bid)]]),
      ...(o.targets ?? []).map(p => ['p', p]),
      ...(o.tags ?? []),
    ],
  })

export const result = (
  provider: Author,
  req: Pick<NostrEvent, 'id' | 'pubkey' | 'kind'>,
  o: { amount?: number; kind?: number; request?: string; tags?: string[][] } = {},
) =>
  provider.sign({
    kind: o.kind ?? req.kind + 1000,
    tags: [
      ['e', req.id],
      ['p', req.pubkey],
      ...(o.amount === undefined ? [] : [['amount', String(o.amount)]]),
      ...(o.request === undefined ? [] : [['request', o.request]]),
      ...(o.tags ?? []),
    ],
    content: 'the summary',
  })

export const feedback = (who: Author, req: Pick<NostrEvent, 'id' | 'pubkey'>, status: string, tags: string[][] = []) =>
  who.sign({
    kind: 7000,
    tags: [['status', status], ['e', req.id], ['p', req.pubkey], ...tags],
  })

export const review = (who: Author, req: NostrEvent, about: string, rating: number, created_at = now()) =>
  who.sign({
    kind: 31117,
    created_at,
    tags: [
      ['d', req.id],
      ['p', about],
      ['rating', String(rating)],
      ['k', String(req.kind)],
    ],
  })

/** A NIP-89 handler (31990) naming a lightning address in its content, as the seed's agents send it. */
export const handler = (provider: Author, lud16: string, kinds = [5100], name = 'agent') =>
  provider.sign({
    kind: 31990,
    tags: [['d', 'agent'], ...kinds.map(k => ['k', String(k)])],
    content: JSON.stringify({ name, about: 'does work', lud16 }),
  })

/** A DVM trust declaration (30382 from an agent): d = p = the trusted key. */
export const trust = (who: Author, about: string) =>
  who.sign({
    kind: 30382,
    tags: [
      ['d', about],
      ['p', about],
      ['assertion', 'dvm-provider'],
    ],
  })

/** A NIP-61 10019: nutzaps and escrows to `who` are locked to `cashuKey` (x-only hex) at `mint`. */
export const wallet = (who: Author, mint: string, cashuKey: string) =>
  who.sign({
    kind: 10019,
    tags: [
      ['mint', mint, 'sat'],
      ['pubkey', `02${cashuKey}`],
    ],
  })

export const report = (who: Author, about: string, type = 'spam') =>
  who.sign({ kind: 1984, tags: [['p', about, type]], content: 'bad work' })

export const attestation = (who: Author, about: string, rating: number, confidence = 0.9, created_at = now()) =>
  who.sign({
    kind: 30085,
    created_at,
    tags: [
      ['d', `${about}:nip90.5100`],
      ['p', about],
      ['expiration', String(now() + 90 * 86400)],
    ],
    content: JSON.stringify({ subject: about, rating, confidence, context: 'nip90.5100' }),
  })

export async function accepted(t: Test, c: RawClient, e: { id: string }, what: string): Promise<void> {
  t.same(await c.publish(e), ['OK', e.id, true, ''], what)
}

/** Refused with `prefix: ...` matching `reason`, and not stored. */
export async function refused(
  t: Test,
  c: RawClient,
  e: { id: string },
  prefix: 'restricted' | 'blocked' | 'invalid' | 'error',
  reason: RegExp,
  what: string,
): Promise<void> {
  const ok = await c.publish(e)
  t.equal(ok[2], false, `${what}: refused`)
  t.match(String(ok[3]), new RegExp(`^${prefix}: `), `${what}: ${prefix} prefix`)
  t.match(String(ok[3]), reason, `${what}: names the rule`)
  t.same(await queryIds(c, { ids: [e.id] }), [], `${what}: not stored`)
}

/** The market's row for a job, read from the store beside the running relay. */
export function jobRow(dataDir: string, id: string): Record<string, unknown> | undefined {
  const db = new Database(databaseFile(dataDir), { readonly: true })
  try {
    return db.prepare('SELECT * FROM market_jobs WHERE id = ?').get(id) as Record<string, unknown> | undefined
  } finally {
    db.close()
  }
}

/** The relay's newest output of `kind` for `d`, read with an ordinary REQ. */
export async function output(c: RawClient, relay: string, kind: number, d: string): Promise<NostrEvent | undefined> {
  const sub = `out-${kind}-${d.slice(0, 8)}-${Math.random()}`
  const r = await c.req(sub, { kinds: [kind], authors: [relay], '#d': [d] })
  // Closed at once: a connection may hold only so many subscriptions.
  c.send(['CLOSE', sub])
  return r.events[0] as NostrEvent | undefined
}

/** The relay's step requests for a workflow, by step index. */
export async function steps(c: RawClient, relay: string, workflow: string): Promise<Map<number, NostrEvent[]>> {
  const sub = `steps-${Math.random()}`
  const r = await c.req(sub, { authors: [relay], '#e': [workflow], kinds: [5100, 5200, 5300] })
  c.send(['CLOSE', sub])
  const out = new Map<number, NostrEvent[]>()
  for (const e of r.events as unknown as NostrEvent[]) {
    const i = Number(tag(e, 'step'))
    out.set(i, [...(out.get(i) ?? []), e])
  }
  return out
}

/** Step `index` of the workflow, once the relay has published it. */
export async function step(c: RawClient, relay: string, workflow: string, index: number): Promise<NostrEvent> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const found = (await steps(c, relay, workflow)).get(index)
    if (found) return found[0]!
    if (Date.now() > deadline) throw new Error(`timed out waiting for step ${index} of workflow ${workflow}`)
    await sleep(100)
  }
}

/** A tag's first value. */
export const tag = (e: NostrEvent | undefined, name: string) => e?.tags.find(t => t[0] === name)?.[1]

/** Waits until the relay's output for `d` satisfies `cond` (outputs are published after a short debounce). */
export async function outputWhen(
  c: RawClient,
  relay: string,
  kind: number,
  d: string,
  cond: (e: NostrEvent) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<NostrEvent> {
  let last: NostrEvent | undefined
  let polling = false
  const poll = () => {
    if (!polling) {
      polling = true
      // A poll still in flight when the wait ends may be cut off by the test's teardown.
      void output(c, relay, kind, d).then(
        e => {
          last = e
          polling = false
        },
        () => (polling = false),
      )
    }
    return last !== undefined && cond(last)
  }
  await waitFor(poll, `${what} (last: ${JSON.stringify(last?.tags)})`, timeoutMs)
  return last!
}

/** A job's ledger entry (31118) once its `name` tag (`state` by default) reads `value`, within `timeoutMs`. */
export const ledgerWhen = (
  m: { c: RawClient; relay: { pubkey: string } },
  job: string,
  value: string,
  o: { name?: string; timeoutMs?: number } = {},
) =>
  outputWhen(
    m.c,
    m.relay.pubkey,
    31118,
    job,
    e => tag(e, o.name ?? 'state') === value,
    `${o.name ?? 'state'} ${value}`,
    o.timeoutMs ?? 60_000,
  )

/** The market tables rebuilt from the stored events equal the live ones, standing and reputation to the bit. */
export function rebuildsTheSame(t: Test, m: Pick<Market, 'dataDir' | 'cfg' | 'relay'>): void {
  const db = new Database(databaseFile(m.dataDir))
  try {
    const snapshot = () => MARKET_TABLES.map(table => db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).all())
    const live = snapshot()
    rebuildMarket(db, { standing: standingRules(m.cfg, m.relay.pubkey) })
    t.strictSame(snapshot(), live, 'a rebuild from the stored events gives the same market tables')
  } finally {
    db.close()
  }
}
