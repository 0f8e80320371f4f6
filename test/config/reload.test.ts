import t, { type Test } from 'tap'
import { existsSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { loadConfig, type ConfigSources } from '../../config/load.js'
import { databaseFile, startRelay, type Relay } from '../../relay/app.js'
import { connectFor, queryIds, type RawClient } from '../helpers/client.js'
import { signer } from '../helpers/events.js'
import { configToml, type FileOpts } from '../helpers/config-file.js'
import { INLINE, tempDir } from '../helpers/relay.js'
import { sleep } from '../helpers/wait.js'

const WITHOUT_1 = ['0', '7']
const WITH_1 = ['0', '1', '7']
/** The changes a reload reports for the edits the tests make. */
const KINDS_1_ADDED = { key: 'policies.kind_whitelist.kinds', from: WITHOUT_1, to: WITH_1 }
const RENAMED = { key: 'relay.name', from: 'before reload', to: 'after reload' }

type Setup = { relay: Relay; file: string; dataDir: string; c: RawClient; write(o: Partial<FileOpts>): void }

/** Writes the config file, starts the relay from it (closed at teardown) and opens one connection. */
async function setup(t: Test, first: Partial<FileOpts> = {}): Promise<Setup> {
  const dir = tempDir(t, 'agora-reload-')
  const dataDir = join(dir, 'data')
  const file = join(dir, 'agora.toml')
  const write = (o: Partial<FileOpts>) => writeFileSync(file, configToml({ dataDir, kinds: WITHOUT_1, ...o }))
  write(first)
  const sources: ConfigSources = { file, env: {}, flags: INLINE }
  const relay = await startRelay(loadConfig(sources), sources)
  t.teardown(() => relay.close())
  const c = await connectFor(t, relay.url)
  await c.expect(m => m[0] === 'AUTH')
  return { relay, file, dataDir, c, write }
}

/** The connection is still the one opened at setup: open, not closed, and no new AUTH greeting arrived. */
async function sameConnection(t: Test, c: RawClient): Promise<void> {
  t.equal(c.ws.readyState, c.ws.OPEN, 'the socket is still open')
  const closed = await Promise.race([c.closed.then(() => true), sleep(0).then(() => false)])
  t.equal(closed, false, 'the server did not close the socket')
  t.notOk(
    c.pending().some(m => m[0] === 'AUTH'),
    'no second AUTH challenge, so the server did not see a new connection',
  )
}

const nip11 = async (port: number) =>
  (await (await fetch(`http://127.0.0.1:${port}/`, { headers: { Accept: 'application/nostr+json' } })).json()) as {
    name: string
    limitation: { max_message_length: number }
  }

t.test('kind 1 is refused blocked: when the file whitelist leaves it out', async t => {
  const { c } = await setup(t)
  const e = signer().sign({ kind: 1, content: 'before' })
  const ok = await c.publish(e)
  t.equal(ok[2], false)
  t.equal(ok[3], 'blocked: kind 1 is not accepted here')
  t.same(await queryIds(c, { ids: [e.id] }), [], 'nothing stored')
})

t.test('a reload that adds kind 1 to the whitelist applies on the same open connection', async t => {
  const { relay, c, write } = await setup(t)
  const author = signer()
  // A subscription opened before the reload: only the same server-side connection can still deliver to it.
  const live = await c.req('live', { kinds: [1], authors: [author.pubkey] })
  t.same(live.events, [])
  const refused = author.sign({ kind: 1, content: 'before' })
  t.match((await c.publish(refused))[3], /^blocked: /, 'refused before the reload')

  write({ kinds: WITH_1 })
  t.same(relay.reload(), { ok: true, changes: [KINDS_1_ADDED], pending: [] })

  const e = author.sign({ kind: 1, content: 'after' })
  t.same(await c.publish(e), ['OK', e.id, true, ''])
  const pushed = await c.expect(m => m[0] === 'EVENT' && m[1] === 'live')
  t.equal((pushed[2] as { id: string }).id, e.id, 'the subscription opened before the reload gets the event live')
  await sameConnection(t, c)
  t.same(await queryIds(c, { ids: [e.id, refused.id] }), [e.id], 'the new event is stored, the refused one is not')
})

t.test('a reload of an unchanged file reports no changes and nothing pending', async t => {
  const { relay } = await setup(t)
  t.same(relay.reload(), { ok: true, changes: [], pending: [] })
})

/** Config files the relay must refuse to load, each with what the error must name. */
const broken: { what: string; opts(kinds: string[]): Partial<FileOpts>; error: RegExp; breakToml?: boolean }[] = [
  { what: 'invalid TOML', opts: kinds => ({ kinds }), breakToml: true, error: /Invalid TOML document/ },
  {
    what: 'an unknown key',
    opts: kinds => ({ kinds, relayExtra: 'nmae = "typo"' }),
    error: /unknown key relay\.nmae/,
  },
  {
    what: 'a value of the wrong type',
    opts: kinds => ({ kinds, extra: '[limits]\nmax_subscriptions = "many"\n' }),
    error: /limits\.max_subscriptions: expected an integer, got "many"/,
  },
  {
    what: 'a value out of its range',
    opts: kinds => ({ kinds, extra: '[limits]\nmax_subscriptions = 20000\n' }),
    error: /limits\.max_subscriptions: 20000 is out of range 1\.\.10000/,
  },
  {
    what: 'the zap gate enabled without zapper_pubkeys',
    opts: kinds => ({
      kinds,
      extra: '[policies.zap_gate]\nenabled = true\nlightning_address = "relay@example.com"\nzapper_pubkeys = []\n',
    }),
    error: /policies\.zap_gate\.zapper_pubkeys/,
  },
]

/** Writes a broken file: for invalid TOML, a valid one cut inside the kinds list. */
function writeBroken(s: Setup, b: (typeof broken)[number], kinds: string[]): void {
  const text = configToml({ dataDir: s.dataDir, kinds, ...b.opts(kinds) })
  writeFileSync(s.file, b.breakToml ? text.replace(/^kinds = \[(.*)\]$/m, 'kinds = [$1') : text)
}

for (const b of broken) {
  t.test(`a reload of a file with ${b.what} fails naming the problem and kind 1 stays accepted`, async t => {
    const s = await setup(t)
    s.write({ kinds: WITH_1 })
    t.same(s.relay.reload(), { ok: true, changes: [KINDS_1_ADDED], pending: [] }, 'setup: kind 1 allowed by a reload')
    const author = signer()
    const first = author.sign({ kind: 1, content: 'first' })
    t.equal((await s.c.publish(first))[2], true, 'kind 1 accepted after the good reload')

    // The broken file would also drop kind 1: applying any of it would refuse the next event.
    writeBroken(s, b, WITHOUT_1)
    const r = s.relay.reload()
    t.equal(r.ok, false)
    t.match(r.ok ? undefined : r.error, b.error, 'the error names the problem')

    const second = author.sign({ kind: 1, content: 'second' })
    t.same(await s.c.publish(second), ['OK', second.id, true, ''], 'the running rules still apply')
    await sameConnection(t, s.c)
    t.same((await queryIds(s.c, { ids: [first.id, second.id] })).sort(), [first.id, second.id].sort())
  })

  t.test(`a reload of a file with ${b.what} does not let in the kind that file would allow`, async t => {
    const s = await setup(t)
    writeBroken(s, b, WITH_1)
    const r = s.relay.reload()
    t.equal(r.ok, false)
    t.match(r.ok ? undefined : r.error, b.error, 'the error names the problem')

    const e = signer().sign({ kind: 1, content: 'still refused' })
    const ok = await s.c.publish(e)
    t.equal(ok[2], false)
    t.equal(ok[3], 'blocked: kind 1 is not accepted here')
    t.same(await queryIds(s.c, { ids: [e.id] }), [], 'nothing stored')
    await sameConnection(t, s.c)
  })
}

/** A TCP port nothing listens on right now. */
async function freePort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  const port = (srv.address() as { port: number }).port
  await new Promise(resolve => srv.close(resolve))
  return port
}

t.test('a reload that changes relay.port reports it pending and keeps serving on the old port', async t => {
  const { relay, c, write } = await setup(t)
  const other = await freePort()
  write({ port: other, name: 'after reload' })
  t.same(relay.reload(), { ok: true, changes: [RENAMED], pending: ['relay.port'] }, 'the port is pending, not changed')

  const info = await nip11(relay.port)
  t.equal(info.name, 'after reload', 'relay.name from the same file took effect; NIP-11 still on the old port')
  await t.rejects(fetch(`http://127.0.0.1:${other}/health`), 'nothing listens on the new port')
  const e = signer().sign({ kind: 7, content: '+' })
  t.same(await c.publish(e), ['OK', e.id, true, ''], 'the open connection still works')
  await sameConnection(t, c)
})

t.test('a reload that changes relay.data_dir reports it pending and keeps the old database', async t => {
  const { relay, c, write, dataDir } = await setup(t)
  const stored = signer().sign({ kind: 7, content: 'before' })
  t.equal((await c.publish(stored))[2], true, 'setup: an event stored before the reload')
  const newDir = join(tempDir(t, 'agora-reload-newdata-'), 'data')
  write({ dataDir: newDir, name: 'after reload' })
  t.same(relay.reload(), { ok: true, changes: [RENAMED], pending: ['relay.data_dir'] })

  t.equal((await nip11(relay.port)).name, 'after reload', 'relay.name from the same file took effect')
  const e = signer().sign({ kind: 7, content: 'after' })
  t.equal((await c.publish(e))[2], true)
  t.same((await queryIds(c, { ids: [stored.id, e.id] })).sort(), [stored.id, e.id].sort(), 'same database')
  t.ok(existsSync(databaseFile(dataDir)), 'the old database is still there')
  t.notOk(existsSync(databaseFile(newDir)), 'no database was opened in the new dir')
})

t.test('a reload that changes limits.max_message_length reports it pending and keeps the old limit', async t => {
  const { relay, c, write } = await setup(t)
  const before = (await nip11(relay.port)).limitation.max_message_length
  t.equal(before, 131072, 'setup: the default limit')
  write({ maxMessageLength: 1024, name: 'after reload' })
  t.same(relay.reload(), { ok: true, changes: [RENAMED], pending: ['limits.max_message_length'] })

  const info = await nip11(relay.port)
  t.equal(info.name, 'after reload', 'relay.name from the same file took effect')
  t.equal(info.limitation.max_message_length, 131072, 'NIP-11 still shows the running limit')
  const big = signer().sign({ kind: 7, content: 'x'.repeat(2000) })
  t.same(await c.publish(big), ['OK', big.id, true, ''], 'a message over the new limit but under the old one passes')
  t.same(await queryIds(c, { ids: [big.id] }), [big.id])
})
