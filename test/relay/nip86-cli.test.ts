// The management API on `agora start` as operators run it: the compiled relay with its writer and reader threads.
// A ban commits on the writer thread, the reader threads leave the events out, and a restart keeps it.
import Database from 'better-sqlite3'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { startCliWithConfig } from '../helpers/cli.js'
import { connectFor, putAll, queryIds } from '../helpers/client.js'
import { configToml } from '../helpers/config-file.js'
import { signer } from '../helpers/events.js'
import { call } from '../helpers/manage.js'
import { tempDir } from '../helpers/relay.js'

t.test('a ban made on the threaded relay hides the events from REQ and COUNT and holds after a restart', async t => {
  const admin = signer()
  const spammer = signer()
  const dir = tempDir(t)
  const dataDir = join(dir, 'data')
  const file = join(dir, 'agora.toml')
  writeFileSync(file, configToml({ dataDir, kinds: ['1'], relayExtra: `admins = ["${admin.pubkey}"]` }))

  const first = await startCliWithConfig(t, file, 60_000)
  const c = await connectFor(t, first.url)
  const e = spammer.sign({ content: 'spam' })
  await putAll(c, e)
  t.equal(await call(first.url, admin.sk, 'banpubkey', [spammer.pubkey, 'spam']), true)
  t.same(await queryIds(c, { authors: [spammer.pubkey] }), [], 'REQ leaves it out')
  c.send(['COUNT', 'n', { authors: [spammer.pubkey] }])
  t.same(await c.expect(m => m[1] === 'n'), ['COUNT', 'n', { count: 0 }], 'COUNT leaves it out')
  c.close()
  first.child.kill('SIGTERM')
  t.equal((await first.exited).code, 0, 'stopped cleanly')
  const db = new Database(join(dataDir, 'agora.sqlite'), { readonly: true })
  t.equal(db.prepare('SELECT count(*) FROM events WHERE id = ?').pluck().get(e.id), 1, 'the store holds the event')
  db.close()

  const second = await startCliWithConfig(t, file, 60_000)
  const c2 = await connectFor(t, second.url)
  t.same(await queryIds(c2, { authors: [spammer.pubkey] }), [], 'still hidden after the restart')
  const fresh = spammer.sign({ content: 'more spam' })
  t.same(await c2.publish(fresh), ['OK', fresh.id, false, 'blocked: this pubkey is banned from this relay'])
  t.equal(await call(second.url, admin.sk, 'unbanpubkey', [spammer.pubkey]), true)
  t.same(await queryIds(c2, { authors: [spammer.pubkey] }), [e.id], 'served again once the ban is lifted')
})
