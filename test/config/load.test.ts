import t, { type Test } from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ConfigError, envName, loadConfig, schemaFields } from '../../config/load.js'
import { renderDefaults } from '../../config/render.js'
import { schema } from '../../config/schema.js'
import { tempDir } from '../helpers/relay.js'

const COMMITTED = fileURLToPath(new URL('../../config/agora.toml', import.meta.url))

/** Writes a TOML file into a temp dir and returns its path. */
function tomlFile(t: { teardown(fn: () => unknown): void }, text: string): string {
  const file = join(tempDir(t), 'agora.toml')
  writeFileSync(file, text)
  return file
}

/** The schema defaults as a plain object. */
function defaults(): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [path, f] of schemaFields()) {
    const keys = path.split('.')
    let node = out
    for (const k of keys.slice(0, -1)) node = (node[k] ??= {}) as Record<string, unknown>
    node[keys.at(-1)!] = f.default
  }
  return out
}

/** Asserts that loading throws a ConfigError whose message contains every `parts`. */
function throwsNaming(t: Test, load: () => unknown, ...parts: string[]) {
  let err: unknown
  try {
    load()
  } catch (e) {
    err = e
  }
  t.type(err, ConfigError, 'throws ConfigError')
  for (const p of parts) t.match((err as Error | undefined)?.message, p, `message names ${p}`)
}

t.test('with no file, env or flags every key has its schema default', async t => {
  t.same(loadConfig({ env: {} }), defaults())
})

t.test('a TOML file overrides the defaults it names and keeps the rest', async t => {
  const file = tomlFile(t, '[relay]\nport = 8000\nname = "filed"\n\n[store]\nsynchronous = "normal"\n')
  const cfg = loadConfig({ file, env: {} })
  t.equal(cfg.relay.port, 8000)
  t.equal(cfg.relay.name, 'filed')
  t.equal(cfg.store.synchronous, 'normal')
  t.equal(cfg.relay.host, '127.0.0.1', 'unnamed keys keep their default')
})

t.test('AGORA_* environment variables override the file', async t => {
  const file = tomlFile(t, '[relay]\nport = 8000\n\n[limits]\nallow_scrape = true\n')
  const cfg = loadConfig({
    file,
    env: { AGORA_RELAY_PORT: '9000', AGORA_LIMITS_ALLOW_SCRAPE: 'false', AGORA_RELAY_NAME: 'from env' },
  })
  t.equal(cfg.relay.port, 9000)
  t.equal(cfg.limits.allow_scrape, false)
  t.equal(cfg.relay.name, 'from env')
})

t.test('flags override the environment and the file', async t => {
  const file = tomlFile(t, '[relay]\nport = 8000\nname = "filed"\n')
  const cfg = loadConfig({
    file,
    env: { AGORA_RELAY_PORT: '9000', AGORA_RELAY_NAME: 'from env' },
    flags: { 'relay.port': 9100, 'relay.name': 'from flag' },
  })
  t.equal(cfg.relay.port, 9100)
  t.equal(cfg.relay.name, 'from flag')
})

t.test('flags given as text are converted to the key type', async t => {
  const cfg = loadConfig({ env: {}, flags: { 'relay.port': '9200', 'policies.open': 'true' } })
  t.equal(cfg.relay.port, 9200)
  t.equal(cfg.policies.open, true)
})

t.test('the environment defaults to process.env', async t => {
  const before = process.env.AGORA_RELAY_NAME
  process.env.AGORA_RELAY_NAME = 'from process'
  t.teardown(() => {
    if (before === undefined) delete process.env.AGORA_RELAY_NAME
    else process.env.AGORA_RELAY_NAME = before
  })
  t.equal(loadConfig().relay.name, 'from process')
})

t.test('environment variables that do not start with AGORA_ are ignored', async t => {
  t.same(loadConfig({ env: { PATH: '/bin', RELAY_PORT: 'x', agora_relay_port: 'x' } }), defaults())
})

t.test('envName spells a key as AGORA_SECTION_KEY', async t => {
  t.equal(envName('relay.port'), 'AGORA_RELAY_PORT')
  t.equal(envName('limits.max_limit'), 'AGORA_LIMITS_MAX_LIMIT')
})

t.test('an unknown section in the file throws ConfigError naming it', async t => {
  throwsNaming(t, () => loadConfig({ file: tomlFile(t, '[nope]\nx = 1\n'), env: {} }), 'nope')
})

t.test('an unknown key in the file throws ConfigError naming it', async t => {
  throwsNaming(t, () => loadConfig({ file: tomlFile(t, '[relay]\nprot = 1\n'), env: {} }), 'relay.prot')
})

t.test('a section that is not a table throws ConfigError naming it', async t => {
  throwsNaming(t, () => loadConfig({ file: tomlFile(t, 'relay = 1\n'), env: {} }), '[relay]')
})

t.test('a file that is not TOML throws ConfigError naming the file', async t => {
  const file = tomlFile(t, '[relay\nport = \n')
  throwsNaming(t, () => loadConfig({ file, env: {} }), file)
})

t.test('a missing file throws ConfigError naming the file', async t => {
  const file = join(tempDir(t), 'missing.toml')
  throwsNaming(t, () => loadConfig({ file, env: {} }), file)
})

t.test('a value of the wrong type throws ConfigError naming the key', async t => {
  const cases: [string, string][] = [
    ['[relay]\nport = "7777"\n', 'relay.port'],
    ['[relay]\nport = 1.5\n', 'relay.port'],
    ['[relay]\nname = 5\n', 'relay.name'],
    ['[limits]\nallow_scrape = "yes"\n', 'limits.allow_scrape'],
  ]
  for (const [text, key] of cases) throwsNaming(t, () => loadConfig({ file: tomlFile(t, text), env: {} }), key)
})

t.test('an integer out of range throws ConfigError naming the key and the range', async t => {
  throwsNaming(t, () => loadConfig({ file: tomlFile(t, '[relay]\nport = 70000\n'), env: {} }), 'relay.port', '0..65535')
  throwsNaming(t, () => loadConfig({ env: {}, flags: { 'limits.max_filters': 0 } }), 'limits.max_filters', '1..1000')
  throwsNaming(t, () => loadConfig({ env: { AGORA_LIMITS_MAX_LIMIT: '-1' } }), 'limits.max_limit')
})

t.test('a value outside an enum throws ConfigError naming the key and the choices', async t => {
  throwsNaming(
    t,
    () => loadConfig({ file: tomlFile(t, '[store]\nsynchronous = "off"\n'), env: {} }),
    'store.synchronous',
    'full, normal',
  )
  throwsNaming(t, () => loadConfig({ env: { AGORA_VERIFIER_BACKEND: 'gpu' } }), 'verifier.backend')
})

t.test('an unknown AGORA_* environment variable throws ConfigError naming it', async t => {
  throwsNaming(t, () => loadConfig({ env: { AGORA_RELAY_PROT: '1' } }), 'AGORA_RELAY_PROT')
})

t.test('an unreadable AGORA_* value throws ConfigError naming the variable', async t => {
  throwsNaming(t, () => loadConfig({ env: { AGORA_RELAY_PORT: 'eighty' } }), 'AGORA_RELAY_PORT', 'relay.port')
  throwsNaming(t, () => loadConfig({ env: { AGORA_POLICIES_OPEN: 'yes' } }), 'AGORA_POLICIES_OPEN', 'policies.open')
})

t.test('an unknown flag throws ConfigError naming it', async t => {
  throwsNaming(t, () => loadConfig({ env: {}, flags: { 'relay.prot': 1 } }), 'relay.prot')
  throwsNaming(t, () => loadConfig({ env: {}, flags: { relay: 1 } }), 'relay')
  throwsNaming(t, () => loadConfig({ env: {}, flags: { 'relay.port.x': 1 } }), 'relay.port.x')
})

t.test('a flag of the wrong type throws ConfigError naming the key', async t => {
  throwsNaming(t, () => loadConfig({ env: {}, flags: { 'relay.port': true } }), 'relay.port')
  throwsNaming(t, () => loadConfig({ env: {}, flags: { 'relay.name': 5 } }), 'relay.name')
})

t.test('the loaded config is frozen, sections included', async t => {
  const cfg = loadConfig({ env: {} })
  t.ok(Object.isFrozen(cfg))
  for (const section of Object.keys(schema)) t.ok(Object.isFrozen(cfg[section as keyof typeof cfg]), section)
  t.throws(() => {
    ;(cfg.relay as { port: number }).port = 1
  }, TypeError)
  t.equal(cfg.relay.port, 7777)
})

t.test('config/agora.toml is exactly what renderDefaults() produces', async t => {
  const committed = readFileSync(COMMITTED, 'utf8')
  t.equal(committed, renderDefaults(), 'config/agora.toml is stale: run `npm run build && npm run config:generate`')
})

t.test('loading the committed config/agora.toml gives the defaults', async t => {
  t.same(loadConfig({ file: COMMITTED, env: {} }), defaults())
})

t.test('renderDefaults documents every key with its doc line', async t => {
  const text = renderDefaults()
  for (const section of Object.keys(schema)) t.match(text, `[${section}]`, section)
  for (const [path, f] of schemaFields()) {
    t.match(text, `# ${f.doc}`, `${path} doc`)
    t.match(text, new RegExp(`^${path.split('.').at(-1)} = `, 'm'), `${path} line`)
  }
})
