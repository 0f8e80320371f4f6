// agora skill: prints the /skill.md of a config without starting a relay, reading the relay key but never making one.
import t from 'tap'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../../config/load.js'
import { startRelay } from '../../relay/app.js'
import { ensureBuilt, runCli } from '../helpers/cli.js'
import { INLINE, tempDir } from '../helpers/relay.js'

ensureBuilt()

/** A config file with a PoW rule for job requests, and its data dir (not created). */
function configFile(t: Parameters<typeof tempDir>[0], relayLines: string[] = []) {
  const dir = tempDir(t, 'agora-skill-cli-')
  const dataDir = join(dir, 'data')
  const file = join(dir, 'agora.toml')
  writeFileSync(
    file,
    [
      '[relay]',
      'host = "127.0.0.1"',
      'port = 4567',
      `data_dir = ${JSON.stringify(dataDir)}`,
      ...relayLines,
      '[policies.pow]',
      'rules = ["5000-5999:9"]',
      '',
    ].join('\n'),
  )
  return { file, dataDir }
}

t.test('agora skill --config prints the document for that config, with no key yet, creating nothing', async t => {
  const { file, dataDir } = configFile(t)
  const r = await runCli(['skill', '--config', file])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stderr, '')
  t.match(r.stdout, /^# agora: how to use this relay\n/)
  t.match(r.stdout, '| kinds | bits |\n|---|---|\n| 5000-5999 | 9 |\n')
  t.match(r.stdout, '- URL: `ws://127.0.0.1:4567`', 'the listen address, without relay.url')
  t.match(r.stdout, '- pubkey: none yet: the relay makes its key when it first starts')
  t.notOk(existsSync(dataDir), 'no data dir, no key made')
})

t.test('agora skill shows the key made by keygen, and --port changes the URL', async t => {
  const { file, dataDir } = configFile(t)
  const key = await runCli(['keygen', '--data', dataDir])
  t.equal(key.code, 0, key.stderr)
  const r = await runCli(['skill', '--config', file, '--port', '7001'])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, `- pubkey: \`${key.stdout.trim()}\``)
  t.match(r.stdout, '- URL: `ws://127.0.0.1:7001`')
})

t.test('agora skill prints what the running relay serves at /skill.md', async t => {
  // With relay.url set, the served document does not depend on the request's Host header.
  const { file } = configFile(t, ['url = "wss://relay.example.com"'])
  const sources = { file, env: {}, flags: { ...INLINE, 'relay.port': 0 } }
  const relay = await startRelay(loadConfig(sources), sources)
  t.teardown(() => relay.close())
  const served = await (await fetch(`${relay.url.replace(/^ws:/, 'http:')}/skill.md`)).text()
  const r = await runCli(['skill', '--config', file])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, `- pubkey: \`${relay.pubkey}\``, 'the key the relay made')
  t.equal(r.stdout, served)
})

t.test('agora skill takes no arguments, and USAGE lists it', async t => {
  const r = await runCli(['skill', 'extra'])
  t.equal(r.code, 2)
  t.match(r.stderr, 'agora: skill takes no arguments')
  t.match(r.stderr, '  agora skill [--config FILE] [--data DIR] [--host HOST] [--port PORT] [--open]')
})
