import t from 'tap'
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { initNostrWasm } from 'nostr-wasm'
import WebSocket from 'ws'
import type { NostrEvent } from '../../nips/nip01.js'
import { startCli, type CliRelay } from '../helpers/cli.js'
import { rawClient } from '../helpers/client.js'
import { now } from '../helpers/events.js'
import { tempDir } from '../helpers/relay.js'

const nw = await initNostrWasm()

/** `count` kind-1 events by a new key, signed with nostr-wasm. */
function events(count: number, label: string): NostrEvent[] {
  const sk = nw.generateSecretKey()
  return Array.from({ length: count }, (_, i) => {
    const e = {
      kind: 1,
      created_at: now(),
      tags: [['t', 'crash-test']],
      content: `${label} #${i} ✓`,
      id: '',
      pubkey: '',
      sig: '',
    }
    nw.finalizeEvent(e, sk)
    return e
  })
}

/**
 * Publishes `evs` over one connection keeping `window` events in flight, until all are answered or the
 * socket closes. Every id answered with OK true lands in `acked` (in arrival order).
 */
function publish(url: string, evs: NostrEvent[], acked: string[], onOk: () => void, window = 64): Promise<void> {
  return new Promise(resolve => {
    const ws = new WebSocket(url)
    let next = 0
    let answered = 0
    const sendNext = () => {
      if (next < evs.length && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(['EVENT', evs[next++]]))
    }
    ws.on('open', () => {
      for (let i = 0; i < window; i++) sendNext()
    })
    ws.on('message', data => {
      const m = JSON.parse(data.toString()) as unknown[]
      if (m[0] !== 'OK') return
      if (m[2] === true) acked.push(m[1] as string)
      onOk()
      if (++answered === evs.length) ws.close()
      else sendNext()
    })
    ws.on('error', () => {}) // the relay dies under us: the close that follows ends the run
    ws.on('close', () => resolve())
  })
}

/** Ids among `ids` the relay serves, asked in chunks that stay under max_filter_values. */
async function storedIds(url: string, ids: string[]): Promise<Set<string>> {
  const c = await rawClient(url)
  const found = new Set<string>()
  try {
    for (let i = 0; i < ids.length; i += 400) {
      const chunk = ids.slice(i, i + 400)
      const r = await c.req(`ids-${i}`, { ids: chunk, limit: chunk.length })
      if (r.closed) throw new Error(`query refused: ${JSON.stringify(r.closed)}`)
      for (const e of r.events) found.add(e.id)
    }
  } finally {
    c.close()
  }
  return found
}

/** Stops a relay with SIGTERM and returns how it exited (bounded). */
async function terminate(relay: CliRelay): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  relay.child.kill('SIGTERM')
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(
      () => reject(new Error(`relay did not exit within 60 s of SIGTERM; stderr: ${relay.stderr()}`)),
      60_000,
    ).unref(),
  )
  return Promise.race([relay.exited, timeout])
}

/** PRAGMA integrity_check on the stopped relay's database, opened read-only. */
function integrity(dataDir: string): unknown {
  const db = new Database(join(dataDir, 'agora.sqlite'), { readonly: true, fileMustExist: true })
  try {
    return db.pragma('integrity_check', { simple: true })
  } finally {
    db.close()
  }
}

t.test('every event acknowledged before kill -9 is served after a restart and the database is intact', async t => {
  const dir = tempDir(t)
  const first = await startCli(t, dir)
  const clients = 4
  const perClient = 400
  const batches = Array.from({ length: clients }, (_, c) => events(perClient, `client ${c}`))
  const acked: string[] = []
  let answers = 0
  // Kill while the four clients are mid-stream: after a quarter of the answers, with events still in flight.
  const killAt = (clients * perClient) / 4
  const runs = batches.map(evs =>
    publish(first.url, evs, acked, () => {
      if (++answers === killAt) first.child.kill('SIGKILL')
    }),
  )
  await Promise.all(runs)
  const exit = await first.exited
  t.equal(exit.signal, 'SIGKILL', 'the relay was killed')
  t.ok(acked.length >= killAt, `events were acknowledged before the kill (${acked.length})`)
  t.ok(
    acked.length < clients * perClient,
    `the kill came while events were still being published (${acked.length} acknowledged)`,
  )

  const second = await startCli(t, dir)
  const found = await storedIds(second.url, acked)
  t.same(
    acked.filter(id => !found.has(id)),
    [],
    'no acknowledged event is missing',
  )
  t.same(await terminate(second), { code: 0, signal: null }, 'the restarted relay stops cleanly')
  t.equal(integrity(dir), 'ok', 'PRAGMA integrity_check')
})

t.test('SIGTERM drains: the relay exits 0 and every acknowledged event is there after a restart', async t => {
  const dir = tempDir(t)
  const first = await startCli(t, dir)
  const evs = events(600, 'drain')
  const acked: string[] = []
  let answers = 0
  let exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined
  await publish(first.url, evs, acked, () => {
    if (++answers === 150) exit = terminate(first)
  })
  t.ok(exit, 'SIGTERM was sent while publishing')
  t.same(await exit, { code: 0, signal: null }, 'exit code 0 after SIGTERM')
  t.match(first.stderr(), /SIGTERM, draining/)
  t.ok(acked.length >= 150, `events were acknowledged before SIGTERM (${acked.length})`)

  const second = await startCli(t, dir)
  const found = await storedIds(
    second.url,
    evs.map(e => e.id),
  )
  t.same(
    acked.filter(id => !found.has(id)),
    [],
    'no acknowledged event is missing',
  )
  t.ok(found.size >= acked.length, `stored ${found.size} of ${evs.length} sent`)
  t.same(await terminate(second), { code: 0, signal: null })
  t.equal(integrity(dir), 'ok', 'PRAGMA integrity_check')
})
