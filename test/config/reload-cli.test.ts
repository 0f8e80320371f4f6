import t, { type Test } from 'tap'
import { renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ensureBuilt, startCliWithConfig } from '../helpers/cli.js'
import { configToml as fileToml } from '../helpers/config-file.js'
import { connectFor, queryIds } from '../helpers/client.js'
import { signer } from '../helpers/events.js'
import { tempDir } from '../helpers/relay.js'

ensureBuilt()

type Tree = { [key: string]: unknown }

const configToml = (dataDir: string, kinds: string[], extra = '') => fileToml({ dataDir, kinds, relayExtra: extra })

t.test('agora start --config reloads its file on SIGHUP and on edits, keeping open connections', async t => {
  const dir = tempDir(t, 'agora-reload-cli-')
  const file = join(dir, 'agora.toml')
  const dataDir = join(dir, 'data')
  writeFileSync(file, configToml(dataDir, ['0', '7']))
  const cli = await startCliWithConfig(t, file)
  /** The JSON log record on stderr line `i`. */
  const record = (i: number) => JSON.parse(cli.lines()[i]!) as { component?: string; msg: string } & Tree
  const c = await connectFor(t, cli.url)
  await c.expect(m => m[0] === 'AUTH')
  const author = signer()
  // A subscription opened first: only the same server-side connection can keep delivering to it.
  t.same((await c.req('live', { kinds: [1], authors: [author.pubkey] })).events, [])

  /** The socket is still open and the server never greeted a new connection on it. */
  const sameConnection = (t: Test) => {
    t.equal(c.ws.readyState, c.ws.OPEN, 'the socket is still open')
    t.notOk(
      c.pending().some(m => m[0] === 'AUTH'),
      'no second AUTH challenge, so the server did not see a new connection',
    )
  }

  await t.test('the start log names the config file in use', async t => {
    const i = await cli.waitForLine(/config file /, 0)
    t.match(record(i), { component: 'config', msg: `config file ${file}` })
  })

  await t.test('kind 1 is refused blocked: under the starting file', async t => {
    const e = author.sign({ kind: 1, content: 'at start' })
    const ok = await c.publish(e)
    t.equal(ok[2], false)
    t.equal(ok[3], 'blocked: kind 1 is not accepted here')
    t.same(await queryIds(c, { ids: [e.id] }), [], 'nothing stored')
  })

  await t.test('SIGHUP after allowing kind 1 in the file lets the same connection publish kind 1', async t => {
    const from = cli.lines().length
    writeFileSync(file, configToml(dataDir, ['0', '1', '7']))
    cli.child.kill('SIGHUP')
    await cli.waitForLine(/SIGHUP: config reloaded/, from)
    // The file watcher may reload the edit first, on a slow machine: one of the two reloads reports the change.
    const i = await cli.waitForLine(/config reloaded: /, from)
    t.match(
      record(i),
      { component: 'config', changed: ['policies.kind_whitelist.kinds'], pending: [] },
      'the reload line lists the changed key',
    )
    t.match(
      record(i).msg,
      /(SIGHUP|changed): config reloaded: policies\.kind_whitelist\.kinds \["0","7"\] → \["0","1","7"\]$/,
      'and its old and new values',
    )
    const e = author.sign({ kind: 1, content: 'after SIGHUP' })
    t.same(await c.publish(e), ['OK', e.id, true, ''])
    const pushed = await c.expect(m => m[0] === 'EVENT' && m[1] === 'live')
    t.equal((pushed[2] as { id: string }).id, e.id, 'the subscription opened before the reload gets it live')
    t.same(await queryIds(c, { ids: [e.id] }), [e.id], 'stored')
    sameConnection(t)
  })

  let afterBroken = 0
  await t.test('a broken edit is logged with its problem and the running rules stay', async t => {
    const from = cli.lines().length
    // Would drop kind 1 if any of it applied; the typo makes the whole file invalid.
    writeFileSync(file, configToml(dataDir, ['0', '7'], 'nmae = "typo"'))
    const i = await cli.waitForLine(/config not reloaded, keeping the running one: /, from)
    const line = cli.lines()[i]!
    t.match(line, /unknown key relay\.nmae/, 'the line names the problem')
    t.match(line, file, 'the line names the file')
    afterBroken = i + 1
    const e = author.sign({ kind: 1, content: 'after the broken edit' })
    t.same(await c.publish(e), ['OK', e.id, true, ''], 'kind 1 is still accepted')
    t.same(await queryIds(c, { ids: [e.id] }), [e.id], 'stored')
    sameConnection(t)
  })

  await t.test('a valid edit without SIGHUP is picked up by the file watcher', async t => {
    writeFileSync(file, configToml(dataDir, ['0', '7']))
    const i = await cli.waitForLine(/ changed: config reloaded/, afterBroken)
    t.match(cli.lines()[i], `${file} changed: config reloaded`, 'reloaded by the watcher, not by a signal')
    const e = author.sign({ kind: 1, content: 'after the watched edit' })
    const ok = await c.publish(e)
    t.equal(ok[2], false)
    t.equal(ok[3], 'blocked: kind 1 is not accepted here')
    t.same(await queryIds(c, { ids: [e.id] }), [], 'nothing stored')
    sameConnection(t)
  })

  await t.test('a SIGHUP with the file unchanged logs that nothing changed', async t => {
    const from = cli.lines().length
    cli.child.kill('SIGHUP')
    const i = await cli.waitForLine(/SIGHUP: config reloaded/, from)
    t.equal(record(i).msg, 'SIGHUP: config reloaded, nothing changed')
  })

  await t.test(
    'an edit of a secret restart key and another key logs the change, and the secret by name only',
    async t => {
      const from = cli.lines().length
      const secret = 'ab'.repeat(32)
      // Replaced in one rename, as editors save, so the watcher sees one change.
      writeFileSync(
        `${file}.new`,
        fileToml({ dataDir, kinds: ['0', '7'], name: 'renamed', relayExtra: `secret_key = "${secret}"` }),
      )
      renameSync(`${file}.new`, file)
      const i = await cli.waitForLine(/ changed: config reloaded/, from)
      t.equal(
        record(i).msg,
        `${file} changed: config reloaded: relay.name "before reload" → "renamed"; needs a restart to change: relay.secret_key`,
      )
      t.notMatch(cli.stderr(), secret, 'the secret appears nowhere in the log')
    },
  )

  await t.test('SIGTERM stops the relay with exit code 0', async t => {
    cli.child.kill('SIGTERM')
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('agora did not exit within 60 s of SIGTERM')), 60_000).unref(),
    )
    const { code, signal } = await Promise.race([cli.exited, timeout])
    t.equal(code, 0)
    t.equal(signal, null)
  })
})
