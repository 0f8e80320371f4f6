// A mirror's catch-up over NIP-77 (relay/mirror.ts): against an upstream that lists NIP-77, the relay reconciles its
// own set for the filter with the upstream's and asks by id for exactly what it lacks. The upstream is a small server
// on loopback that answers NEG-OPEN/NEG-MSG with agora's responder (nips/nip77.ts, whose relay side is not wired into
// agora's protocol yet), serves its events to `ids` REQs only, and says so in its NIP-11 document.
import Database from 'better-sqlite3'
import { createServer } from 'node:http'
import t, { type Test } from 'tap'
import { WebSocketServer } from 'ws'
import type { NostrEvent } from '../../nips/nip01.js'
import { PackedStorage, Responder } from '../../nips/nip77.js'
import { databaseFile } from '../../relay/app.js'
import { connectFor, putAll } from '../helpers/client.js'
import { now, signer } from '../helpers/events.js'
import { report } from '../helpers/market.js'
import { startTestRelay } from '../helpers/relay.js'
import { waitFor } from '../helpers/wait.js'

/** An upstream holding `events`, speaking NIP-77 and answering only REQs by id; records the ids asked for. */
async function negentropyUpstream(t: Test, events: readonly NostrEvent[]) {
  const asked: string[] = []
  let opened = 0
  const http = createServer((_req, res) =>
    res
      .writeHead(200, { 'content-type': 'application/nostr+json' })
      .end(JSON.stringify({ name: 'upstream', supported_nips: [1, 11, 77] })),
  )
  const wss = new WebSocketServer({ server: http })
  const byId = new Map(events.map(e => [e.id, e]))
  wss.on('connection', ws => {
    const sessions = new Map<string, Responder>()
    ws.on('message', data => {
      const [verb, id, a, b] = JSON.parse(String(data)) as [string, string, unknown, unknown]
      if (verb === 'NEG-OPEN') {
        // The mirror asks for its kinds in several filters: each session holds what its filter's kinds select.
        const kinds = (a as { kinds: number[] }).kinds
        const storage = new PackedStorage(
          events.filter(e => kinds.includes(e.kind)).map(e => [e.created_at, e.id] as const),
        )
        sessions.set(id, new Responder(storage))
        opened++
        ws.send(JSON.stringify(['NEG-MSG', id, sessions.get(id)!.reconcile(b as string)]))
      } else if (verb === 'NEG-MSG') ws.send(JSON.stringify(['NEG-MSG', id, sessions.get(id)!.reconcile(a as string)]))
      else if (verb === 'REQ') {
        for (const want of (a as { ids?: string[] }).ids ?? []) {
          asked.push(want)
          const e = byId.get(want)
          if (e) ws.send(JSON.stringify(['EVENT', id, e]))
        }
        ws.send(JSON.stringify(['EOSE', id]))
      }
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

  const up = await negentropyUpstream(t, events)
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
