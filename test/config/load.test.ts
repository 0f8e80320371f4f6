import t, { type Test } from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ConfigError, envName, findConfigFile, loadConfig, schemaFields } from '../../config/load.js'
import { renderDefaults } from '../../config/render.js'
import { schema } from '../../config/schema.js'
import { tempDir } from '../helpers/relay.js'

const REFERENCE = fileURLToPath(new URL('../../config/agora.reference.toml', import.meta.url))

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

t.test('every integer key has a range that holds its default', async t => {
  for (const [path, f] of schemaFields()) {
    if (f.type !== 'int') continue
    t.ok(Number.isSafeInteger(f.min) && Number.isSafeInteger(f.max), `${path} has finite bounds`)
    t.ok(f.min <= f.default && f.default <= f.max, `${path}: ${f.min} <= ${f.default} <= ${f.max}`)
  }
})

t.test('a PoW rule asking for more than 256 bits is refused from the file, the environment and flags', async t => {
  const range = '300 bits is out of range 0..256'
  const file = tomlFile(t, '[policies.pow]\nrules = ["5000-5999:10", "1:300"]\n')
  throwsNaming(t, () => loadConfig({ file, env: {} }), 'policies.pow.rules', '"1:300"', range)
  const env = { AGORA_POLICIES_POW_RULES: '1:300' }
  throwsNaming(t, () => loadConfig({ env }), 'AGORA_POLICIES_POW_RULES', 'policies.pow.rules', range)
  const flags = { 'policies.pow.rules': ['1:300'] }
  throwsNaming(t, () => loadConfig({ env: {}, flags }), 'flag policies.pow.rules', range)
  t.same(loadConfig({ env: {}, flags: { 'policies.pow.rules': ['1:256', '*:0'] } }).policies.pow.rules, [
    '1:256',
    '*:0',
  ])
})

t.test('kinds above 65535 and empty kind ranges are refused in kind lists and rules', async t => {
  const cases: [Record<string, readonly string[]>, ...string[]][] = [
    [
      { 'policies.kind_whitelist.kinds': ['1', '70000'] },
      'policies.kind_whitelist.kinds',
      'kind 70000 is out of range 0..65535',
    ],
    [{ 'policies.private_reads.kinds': ['7118-7117'] }, 'policies.private_reads.kinds', 'the range 7118-7117 is empty'],
    [{ 'policies.rate_limit.events_per_ip': ['99999:5'] }, 'policies.rate_limit.events_per_ip', 'kind 99999'],
    [
      { 'policies.rate_limit.events_per_pubkey': ['*:2000000'] },
      '2000000 events per minute is out of range 0..1000000',
    ],
  ]
  for (const [flags, ...parts] of cases) throwsNaming(t, () => loadConfig({ env: {}, flags }), ...parts)
})

t.test('created_at limits outside their ranges are refused', async t => {
  throwsNaming(
    t,
    () => loadConfig({ file: tomlFile(t, '[limits]\ncreated_at_lower_limit = 5\n'), env: {} }),
    'limits.created_at_lower_limit',
    '5 is out of range 60..3155760000',
  )
  throwsNaming(
    t,
    () => loadConfig({ env: { AGORA_LIMITS_CREATED_AT_UPPER_LIMIT: '99999999999' } }),
    'limits.created_at_upper_limit',
    '99999999999 is out of range 0..31536000',
  )
})

t.test('every problem in the file, the environment and flags is reported at once', async t => {
  const file = tomlFile(
    t,
    '[relay]\nport = 70000\nprot = 1\n\n[store]\nsynchronous = "off"\n\n[policies.pow]\nrules = ["1:300", "x"]\n',
  )
  let err: ConfigError | undefined
  try {
    loadConfig({ file, env: { AGORA_LIMITS_MAX_FILTERS: '0' }, flags: { 'relay.name': 5 } })
  } catch (e) {
    err = e as ConfigError
  }
  t.type(err, ConfigError)
  t.same(err?.problems, [
    `${file}: relay.port: 70000 is out of range 0..65535`,
    `${file}: unknown key relay.prot`,
    `${file}: store.synchronous: must be one of full, normal, got "off"`,
    `${file}: policies.pow.rules: "1:300": 300 bits is out of range 0..256`,
    `${file}: policies.pow.rules: "x" is not a rule like "5000-5999:10" (kinds or "*", then bits)`,
    'environment AGORA_LIMITS_MAX_FILTERS (limits.max_filters): 0 is out of range 1..1000',
    'flag relay.name: expected a string, got 5',
  ])
  t.equal(err?.message, err?.problems.join('; '), 'the message lists them all')
})

t.test('findConfigFile: --config wins, else ./agora.toml when it exists, else none', async t => {
  const dir = tempDir(t)
  t.equal(findConfigFile(undefined, dir), undefined, 'no file in an empty directory')
  writeFileSync(join(dir, 'agora.toml'), '')
  t.equal(findConfigFile(undefined, dir), join(dir, 'agora.toml'), 'agora.toml in the directory')
  t.equal(findConfigFile('/elsewhere/x.toml', dir), '/elsewhere/x.toml', '--config wins')
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

t.test('config/agora.reference.toml is exactly what renderDefaults() produces', async t => {
  const committed = readFileSync(REFERENCE, 'utf8')
  t.equal(
    committed,
    renderDefaults(),
    'config/agora.reference.toml is stale: run `npm run build && npm run config:generate`',
  )
})

t.test('loading config/agora.reference.toml gives the defaults', async t => {
  t.same(loadConfig({ file: REFERENCE, env: {} }), defaults())
})

t.test('the reference says it is generated, is not read by the relay, and how to make your own file', async t => {
  const header = renderDefaults().split('\n[')[0]!
  t.match(header, 'GENERATED from config/schema.ts by `npm run config:generate`')
  t.match(header, 'The relay never reads this file')
  t.match(header, 'cp config/agora.reference.toml agora.toml')
  t.match(header, 'agora config check agora.toml')
})

t.test('the reference states the range of every integer key', async t => {
  const text = renderDefaults()
  for (const [path, f] of schemaFields())
    if (f.type === 'int') t.match(text, `# ${f.doc} Range: ${f.min}..${f.max}.`, path)
  t.match(text, 'Range: bits 0..256.', 'and the bits a PoW rule may ask')
})

t.test('renderDefaults documents every key with its doc line', async t => {
  const text = renderDefaults()
  for (const section of Object.keys(schema)) t.match(text, `[${section}]`, section)
  for (const [path, f] of schemaFields()) {
    t.match(text, `# ${f.doc}`, `${path} doc`)
    t.match(text, new RegExp(`^${path.split('.').at(-1)} = `, 'm'), `${path} line`)
  }
})

t.test('[[mirror]] entries take their defaults, and each mistake is named with its entry and key', async t => {
  const file = tomlFile(
    t,
    '[[mirror]]\nurl = "wss://one.example"\n\n[[mirror]]\nurl = "ws://two.example:7777"\nkinds = ["1984"]\nfilter = { authors = ["' +
      'a'.repeat(64) +
      '"] }\nevents_per_minute = 60\n',
  )
  const cfg = loadConfig({ file, env: {} })
  t.equal(cfg.mirror.length, 2)
  t.same(cfg.mirror[0], {
    url: 'wss://one.example',
    kinds: ['5000-7000', '1984', '31990', '30333', '10019', '9735', '9321'],
    filter: {},
    events_per_minute: 1200,
    max_backlog: 1000,
    catch_up_interval: 300,
  })
  t.same(cfg.mirror[1]!.filter, { authors: ['a'.repeat(64)] })
  t.equal(cfg.mirror[1]!.events_per_minute, 60)
  t.same(loadConfig({ env: {} }).mirror, [], 'none by default')

  const bad = (toml: string, ...parts: string[]) =>
    throwsNaming(t, () => loadConfig({ file: tomlFile(t, toml), env: {} }), ...parts)
  bad('[[mirror]]\nkinds = ["1"]\n', 'mirror[0]: url is required')
  bad('[[mirror]]\nurl = "https://x.example"\n', 'mirror[0]: url "https://x.example" must be a ws:// or wss:// URL')
  bad('[[mirror]]\nurl = "wss://x.example"\nbudget = 5\n', 'mirror[0]: unknown key budget')
  bad('[[mirror]]\nurl = "wss://x.example"\nfilter = { kinds = [1] }\n', 'mirror[0].filter: kinds go in')
  bad(
    '[[mirror]]\nurl = "wss://x.example"\nfilter = { "#e" = ["nothex"] }\n',
    'mirror[0].filter: filter "#e" must hold',
  )
  bad('[[mirror]]\nurl = "wss://x.example"\nevents_per_minute = 0\n', 'mirror[0].events_per_minute: 0 is out of range')
  bad('[[mirror]]\nurl = "wss://x.example"\nkinds = ["7-3"]\n', 'mirror[0].kinds', 'the range 7-3 is empty')
  bad('mirror = 3\n', 'mirror: expected an array of tables')

  const env = { AGORA_MIRROR: '[{"url": "wss://env.example", "max_backlog": 5}]' }
  t.match(loadConfig({ env }).mirror, [{ url: 'wss://env.example', max_backlog: 5 }], 'JSON from the environment')
  throwsNaming(t, () => loadConfig({ env: { AGORA_MIRROR: '[{url' } }), 'AGORA_MIRROR', 'expected JSON')
})
