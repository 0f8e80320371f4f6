// agora config check FILE and agora config show, and out-of-range values refused by agora start.
import t from 'tap'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'smol-toml'
import { loadConfig } from '../../config/load.js'
import { ensureBuilt, repoRoot, runCli } from '../helpers/cli.js'
import { tempDir } from '../helpers/relay.js'

ensureBuilt()

/** Writes `text` to `name` in a fresh temp dir and returns the dir and the file's path. */
function file(t: Parameters<typeof tempDir>[0], name: string, text: string) {
  const dir = tempDir(t, 'agora-check-')
  writeFileSync(join(dir, name), text)
  return { dir, path: join(dir, name) }
}

const BAD = [
  '[relay]',
  'port = 70000',
  'prot = 1',
  '[store]',
  'synchronous = "off"',
  '[policies.pow]',
  'rules = ["1:300", "70000:1"]',
  '[policies.rate_limit]',
  'reads_per_ip = 0',
  '',
].join('\n')

t.test('config check of a valid file exits 0 and names the keys that differ from the defaults', async t => {
  const { path } = file(t, 'mine.toml', '[relay]\nport = 8000\n[policies.pow]\nrules = ["1:12"]\n')
  const r = await runCli(['config', 'check', path])
  t.equal(r.code, 0, r.stderr)
  t.equal(
    r.stdout,
    `${path}: ok; 2 keys differ from the defaults: relay.port 7777 → 8000; ` +
      'policies.pow.rules ["5000-5999:10","0:20","1:20","3:20"] → ["1:12"]\n',
  )
  t.equal(r.stderr, '')
})

t.test('config check of the reference file finds every key at its default', async t => {
  const r = await runCli(['config', 'check', join(repoRoot, 'config', 'agora.reference.toml')])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /: ok; every key has its default\n$/)
})

t.test('config check of an invalid file exits 1 and lists every problem with key, value and range', async t => {
  const { path } = file(t, 'bad.toml', BAD)
  const r = await runCli(['config', 'check', path])
  t.equal(r.code, 1)
  t.equal(r.stdout, '', 'no summary')
  t.equal(
    r.stderr,
    [
      `agora: ${path}: 6 problems`,
      `  ${path}: relay.port: 70000 is out of range 0..65535`,
      `  ${path}: unknown key relay.prot`,
      `  ${path}: store.synchronous: must be one of full, normal, got "off"`,
      `  ${path}: policies.pow.rules: "1:300": 300 bits is out of range 0..256`,
      `  ${path}: policies.pow.rules: "70000:1": kind 70000 is out of range 0..65535`,
      `  ${path}: policies.rate_limit.reads_per_ip: 0 is out of range 1..1000000`,
      '',
    ].join('\n'),
  )
})

t.test('config check of a missing file exits 1 naming it', async t => {
  const missing = join(tempDir(t), 'nope.toml')
  const r = await runCli(['config', 'check', missing])
  t.equal(r.code, 1)
  t.match(r.stderr, `agora: ${missing}: 1 problem\n  ${missing}: `)
})

t.test('config check judges the file alone: a broken ./agora.toml and AGORA_* variables do not count', async t => {
  const { dir } = file(t, 'agora.toml', BAD)
  const good = join(dir, 'good.toml')
  writeFileSync(good, '[relay]\nname = "fine"\n')
  const r = await runCli(['config', 'check', good], { cwd: dir, env: { AGORA_RELAY_PORT: '99999' } })
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, `${good}: ok; 1 key differs from the defaults: relay.name "agora" → "fine"\n`)
})

t.test('config check without a file is a usage error', async t => {
  const r = await runCli(['config', 'check'])
  t.equal(r.code, 2)
  t.match(r.stderr, 'config check takes one file')
})

t.test('config show prints the effective config as TOML: file, environment and flags, secrets hidden', async t => {
  const secret = 'cd'.repeat(32)
  const { dir, path } = file(t, 'agora.toml', `[relay]\nname = "shown"\nsecret_key = "${secret}"\n`)
  const env = { AGORA_LIMITS_MAX_SUBSCRIPTIONS: '40' }
  const r = await runCli(['config', 'show', '--port', '9001'], { cwd: dir, env })
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, `# effective config: schema defaults, ${path}, AGORA_* environment, flags\n`)
  t.notMatch(r.stdout, secret, 'the secret is not printed')
  const shown = parse(r.stdout) as { relay: Record<string, unknown> }
  t.equal(shown.relay.secret_key, '(redacted)')
  const expected = loadConfig({ file: path, env, flags: { 'relay.port': 9001 } })
  t.same({ ...shown, relay: { ...shown.relay, secret_key: secret } }, expected, 'everything else as loaded')
})

t.test(
  'agora start refuses out-of-range values from flags and the environment before touching the data dir',
  async t => {
    const data = join(tempDir(t), 'data')
    const byFlag = await runCli(['start', '--port', '70000', '--data', data])
    t.equal(byFlag.code, 2)
    t.match(byFlag.stderr, 'agora: config: flag relay.port: 70000 is out of range 0..65535')
    const env = { AGORA_POLICIES_POW_RULES: '5000-5999:10,1:300' }
    const byEnv = await runCli(['start', '--port', '0', '--data', data], { env })
    t.equal(byEnv.code, 2)
    t.match(
      byEnv.stderr,
      'environment AGORA_POLICIES_POW_RULES (policies.pow.rules): "1:300": 300 bits is out of range 0..256',
    )
    t.notOk(existsSync(data), 'no data dir, so no database, was created')
  },
)
