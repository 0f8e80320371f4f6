// A mirror's catch-up over NIP-77 (relay/mirror.ts): against an agora upstream, the relay reconciles its own set for
// the filter with the upstream's and asks by id for exactly what it lacks. Between them sits a recording proxy on
// loopback: it passes the NIP-11 document and every frame through, notes the NEG-OPENs and the ids REQs ask for, and
// withholds the events of REQs by kind (the live subscription's), so that only the catch-up can bring any.
import Database from 'better-sqlite3'
import { createServer } from 'node:http'
import t, { type Test } from 'tap'
import WebSocket, { WebSocketServer } from 'ws'
import { databaseFile } from '../../relay/app.js'
import { connectFor, putAll } from '../helpers/client.js'
import { now, signer } from '../helpers/events.js'
import { report } from '../helpers/market.js'
import { startTestRelay } from '../helpers/relay.js'
import { waitFor } from '../helpers/wait.js'

/** A proxy to the relay at `target` that records what its clients ask for. */
async function recordingProxy(t: Test, target: string) {
  const asked: string[] = []
  let opened = 0
  const http = createServer((req, res) => {
    void fetch(target.replace(/^ws/, 'http'), { headers: { accept: req.headers.accept ?? '*/*' } }).then(async r => {
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' }).end(await r.text())
    })
  })
  const wss = new WebSocketServer({ server: http })
  wss.on('connection', client => {
    const upstream = new WebSocket(target)
    const early: string[] = []
    upstream.on('open', () => early.splice(0).forEach(m => upstream.send(m)))
    upstream.on('close', () => client.close())
    client.on('close', () => upstream.close())
    // Subscriptions by kind, whose events are withheld.
    const live = new Set<string>()
    upstream.on('message', data => {
      const frame = JSON.parse(String(data)) as unknown[]
      if (frame[0] !== 'EVENT' || !live.has(frame[1] as string)) client.send(String(data))
    })
    client.on('message', data => {
      const text = String(data)
      const frame = JSON.parse(text) as unknown[]
      if (frame[0] === 'NEG-OPEN') opened++
      if (frame[0] === 'REQ') {
        const ids = frame.slice(2).flatMap(f => (f as { ids?: string[] }).ids ?? [])
        if (ids.length === 0) live.add(frame[1] as string)
        asked.push(...ids)
      }
      if (upstream.readyState === WebSocket.OPEN) upstream.send(text)
      else early.push(text)
    })
  })
  await new Promise<void>(resolve => http.listen(0, '127.0.0.1', resolve))
  t.teardown(
    () =>
      new Promise<void>(resolve => {
        for (const c of wss.clients) c.terminate()
        http.close(() => resolve())
      }),
  )
  const { port } = http.address() as { port: number }
  return { url: `ws://127.0.0.1:${port}`, asked, sessions: () => opened }
}

t.test('a catch-up over NIP-77 asks the upstream by id for exactly the events this relay lacks', async t => {
  const who = signer()
  const all = Array.from({ length: 30 }, (_, i) => ({ ...report(who, signer().pubkey), created_at: now() - i }))
  // Re-signed: report() signs at now, and each needs its own created_at.
  const events = all.map(e => who.sign({ kind: e.kind, tags: e.tags, content: e.content, created_at: e.created_at }))
  const [held, missing] = [events.slice(0, 20), events.slice(20)]
  // The relay holds two thirds already: published here first, with no mirror configured yet.
  const first = await startTestRelay(t)
  await putAll(await connectFor(t, first.url), ...held)
  await first.relay.close()

  const upstream = await startTestRelay(t, { 'market.enabled': false })
  await putAll(await connectFor(t, upstream.url), ...events)
  const up = await recordingProxy(t, upstream.url)
  const local = await startTestRelay(t, { mirror: JSON.stringify([{ url: up.url }]) }, first.dataDir)
  const stored = (id: string) => {
    const db = new Database(databaseFile(local.dataDir), { readonly: true })
    try {
      return db.prepare('SELECT 1 FROM events WHERE id = ?').pluck().get(id) === 1
    } finally {
      db.close()
    }
  }
  await waitFor(() => missing.every(e => stored(e.id)), 'the missing events', 30_000)
  // Every filter of the catch-up reconciled (each a session) before its ids were asked for.
  await waitFor(() => up.sessions() === 5, 'a session per filter of 500 kinds', 30_000)
  t.same([...new Set(up.asked)].sort(), missing.map(e => e.id).sort(), 'only the missing ones were asked for')
})
