// The only reader of config files, AGORA_* environment variables and flag overrides.
// Order: schema defaults, then the file, then env, then flags. The result is deep-frozen.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'smol-toml'
import { ConfigError, isField, type Field, type Section, type TablesField } from './fields.js'
import { schema, type Config } from './schema.js'

export { ConfigError }

/** Where overrides come from; every part is optional. */
export type ConfigSources = {
  readonly file?: string
  /** Defaults to process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Flag overrides by dotted key, e.g. { 'relay.port': 0 }. */
  readonly flags?: Readonly<Record<string, string | number | boolean | readonly string[]>>
}

type Tree = { [key: string]: unknown }

/** Every leaf of the schema with its dotted path, e.g. ['policies.zap_gate.min_sats', field]. */
export function* schemaFields(node: Section = schema, prefix = ''): Generator<[string, Field]> {
  for (const [key, child] of Object.entries(node)) {
    const path = prefix ? `${prefix}.${key}` : key
    if (isField(child)) yield [path, child]
    else yield* schemaFields(child, path)
  }
}

const FIELDS = new Map(schemaFields())

const isTable = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** One entry of an array of tables: its keys checked, the missing ones at their defaults. */
function checkEntry(name: string, f: TablesField, v: unknown): Record<string, unknown> {
  if (!isTable(v)) throw new ConfigError(`${name}: expected a table, got ${JSON.stringify(v)}`)
  const problems: string[] = []
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(v)) if (!(key in f.entry)) problems.push(`${name}: unknown key ${key}`)
  for (const [key, field] of Object.entries(f.entry)) {
    if (v[key] === undefined) {
      if (f.required.includes(key)) problems.push(`${name}: ${key} is required`)
      else out[key] = field.default
    } else collect(problems, () => (out[key] = checkValue(`${name}.${key}`, field, v[key])))
  }
  const wrong = problems.length === 0 ? f.check?.(out) : undefined
  if (wrong) problems.push(`${name}: ${wrong}`)
  if (problems.length > 0) throw new ConfigError(problems)
  return out
}

function checkValue(name: string, f: Field, v: unknown): unknown {
  const got = JSON.stringify(v)
  if (f.type === 'tables') {
    if (!Array.isArray(v)) throw new ConfigError(`${name}: expected an array of tables ([[...]]), got ${got}`)
    const problems: string[] = []
    const out = v.map((entry, i) => {
      let checked: Record<string, unknown> = {}
      collect(problems, () => (checked = checkEntry(`${name}[${i}]`, f, entry)))
      return checked
    })
    if (problems.length > 0) throw new ConfigError(problems)
    return out
  } else if (f.type === 'object') {
    if (!isTable(v)) throw new ConfigError(`${name}: expected a table, got ${got}`)
    const wrong = f.check(v)
    if (wrong) throw new ConfigError(`${name}: ${wrong}`)
  } else if (f.type === 'int') {
    if (!Number.isSafeInteger(v)) throw new ConfigError(`${name}: expected an integer, got ${got}`)
    if ((v as number) < f.min || (v as number) > f.max)
      throw new ConfigError(`${name}: ${v} is out of range ${f.min}..${f.max}`)
  } else if (f.type === 'bool') {
    if (typeof v !== 'boolean') throw new ConfigError(`${name}: expected true or false, got ${got}`)
  } else if (f.type === 'list') {
    if (!Array.isArray(v)) throw new ConfigError(`${name}: expected a list of strings, got ${got}`)
    const problems = v.flatMap(item => {
      if (typeof item !== 'string' || !f.item.test(item))
        return [`${name}: ${JSON.stringify(item)} is not ${f.itemDoc}`]
      const problem = f.check?.(item)
      return problem ? [`${name}: ${JSON.stringify(item)}: ${problem}`] : []
    })
    if (problems.length > 0) throw new ConfigError(problems)
    return Object.freeze([...(v as string[])])
  } else {
    if (typeof v !== 'string') throw new ConfigError(`${name}: expected a string, got ${got}`)
    if (f.values && !f.values.includes(v))
      throw new ConfigError(`${name}: must be one of ${f.values.join(', ')}, got "${v}"`)
  }
  return v
}

/** Converts env/flag text to the field's type before checking it; lists are comma-separated. */
function fromText(name: string, f: Field, v: string | number | boolean | readonly string[]): unknown {
  if (typeof v !== 'string') return checkValue(name, f, v)
  const t = v.trim()
  // Tables come as JSON: AGORA_MIRROR='[{"url": "wss://relay.example.com"}]'.
  if (f.type === 'tables' || f.type === 'object') {
    let parsed: unknown
    try {
      parsed = JSON.parse(t)
    } catch {
      throw new ConfigError(`${name}: expected JSON, got ${JSON.stringify(v)}`)
    }
    return checkValue(name, f, parsed)
  }
  if (f.type === 'int') return checkValue(name, f, /^-?\d+$/.test(t) ? Number(t) : v)
  if (f.type === 'bool') return checkValue(name, f, t === 'true' ? true : t === 'false' ? false : v)
  if (f.type === 'list') return checkValue(name, f, t === '' ? [] : t.split(',').map(s => s.trim()))
  return checkValue(name, f, v)
}

/** Sets a dotted key in a plain config tree, e.g. setPath(tree, 'relay.port', 0). */
export function setPath(out: Tree, path: string, v: unknown): void {
  const keys = path.split('.')
  let node = out
  for (const k of keys.slice(0, -1)) node = node[k] as Tree
  node[keys.at(-1)!] = v
}

/** Runs `step`; a ConfigError it throws is added to `problems`, so that one pass reports them all. */
function collect(problems: string[], step: () => void): void {
  try {
    step()
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    problems.push(...err.problems)
  }
}

function mergeTable(out: Tree, file: string, table: Tree, prefix: string, problems: string[]): void {
  for (const [key, v] of Object.entries(table)) {
    const path = prefix ? `${prefix}.${key}` : key
    const f = FIELDS.get(path)
    if (f) collect(problems, () => setPath(out, path, checkValue(`${file}: ${path}`, f, v)))
    else if (![...FIELDS.keys()].some(k => k.startsWith(`${path}.`))) problems.push(`${file}: unknown key ${path}`)
    else if (!isTable(v)) problems.push(`${file}: [${path}] must be a table`)
    else mergeTable(out, file, v, path, problems)
  }
}

function mergeFile(out: Tree, file: string, problems: string[]): void {
  let doc: Tree
  try {
    doc = parse(readFileSync(file, 'utf8')) as Tree
  } catch (err) {
    problems.push(`${file}: ${(err as Error).message.split('\n')[0]}`)
    return
  }
  mergeTable(out, file, doc, '', problems)
}

/** The operator's config file: the --config FILE given, else ./agora.toml if it exists in `cwd`, else none. */
export function findConfigFile(flag: string | undefined, cwd = process.cwd()): string | undefined {
  if (flag !== undefined) return flag
  const file = join(cwd, 'agora.toml')
  return existsSync(file) ? file : undefined
}

/** The AGORA_* variable name of a key, e.g. relay.port -> AGORA_RELAY_PORT. */
export function envName(dotted: string): string {
  return `AGORA_${dotted.replaceAll('.', '_')}`.toUpperCase()
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) for (const v of Object.values(o)) deepFreeze(v)
  return Object.freeze(o)
}

/** Builds the effective config, or throws a ConfigError listing every problem, each naming its key. */
export function loadConfig(src: ConfigSources = {}): Config {
  const out: Tree = {}
  const problems: string[] = []
  const byEnv = new Map<string, string>()
  for (const [path, f] of FIELDS) {
    const keys = path.split('.')
    let node = out
    for (const k of keys.slice(0, -1)) node = (node[k] ??= {}) as Tree
    node[keys.at(-1)!] = f.default
    byEnv.set(envName(path), path)
  }
  if (src.file) mergeFile(out, src.file, problems)
  for (const [name, v] of Object.entries(src.env ?? process.env)) {
    // AGORA_CLIENT_* belong to the client commands (agent, job, wallet...), which share a shell with the relay.
    if (!name.startsWith('AGORA_') || name.startsWith('AGORA_CLIENT_') || v === undefined) continue
    const path = byEnv.get(name)
    if (!path) problems.push(`environment: unknown variable ${name}`)
    else collect(problems, () => setPath(out, path, fromText(`environment ${name} (${path})`, FIELDS.get(path)!, v)))
  }
  for (const [path, v] of Object.entries(src.flags ?? {})) {
    const f = FIELDS.get(path)
    if (!f) problems.push(`flag: unknown key ${path}`)
    else collect(problems, () => setPath(out, path, fromText(`flag ${path}`, f, v)))
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return deepFreeze(out) as unknown as Config
}

/** The value of a dotted key in a config, e.g. valueAt(cfg, 'relay.port'). */
export function valueAt(cfg: Config, path: string): unknown {
  return path.split('.').reduce<unknown>((node, k) => (node as Tree)[k], cfg)
}

/**
 * The config to run after a reload: `next`, except that keys marked restart keep their running values.
 * Returns it with the dotted names of the restart keys that changed in the file.
 */
export function keepRestartKeys(running: Config, next: Config): { cfg: Config; pending: string[] } {
  const out = structuredClone(next) as unknown as Tree
  const pending: string[] = []
  for (const [path, f] of FIELDS) {
    if (!f.restart) continue
    if (JSON.stringify(valueAt(running, path)) === JSON.stringify(valueAt(next, path))) continue
    pending.push(path)
    setPath(out, path, valueAt(running, path))
  }
  return { cfg: deepFreeze(out) as unknown as Config, pending }
}
