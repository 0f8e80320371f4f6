// The only reader of config files, AGORA_* environment variables and flag overrides.
// Order: schema defaults, then the file, then env, then flags. The result is deep-frozen.
import { readFileSync } from 'node:fs'
import { parse } from 'smol-toml'
import { schema, type Config, type Field } from './schema.js'

/** A config problem, naming the key and what is wrong with it. */
export class ConfigError extends Error {}

/** Where overrides come from; every part is optional. */
export type ConfigSources = {
  readonly file?: string
  /** Defaults to process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Flag overrides by dotted key, e.g. { 'relay.port': 0 }. */
  readonly flags?: Readonly<Record<string, string | number | boolean>>
}

type Mutable = Record<string, Record<string, unknown>>

function fieldOf(section: string, key: string): Field | undefined {
  const s = (schema as unknown as Record<string, Record<string, Field>>)[section]
  return s ? s[key] : undefined
}

function checkValue(name: string, f: Field, v: unknown): unknown {
  if (f.type === 'int') {
    if (!Number.isSafeInteger(v)) throw new ConfigError(`${name}: expected an integer, got ${JSON.stringify(v)}`)
    if ((v as number) < f.min || (v as number) > f.max)
      throw new ConfigError(`${name}: ${v} is out of range ${f.min}..${f.max}`)
  } else if (f.type === 'bool') {
    if (typeof v !== 'boolean') throw new ConfigError(`${name}: expected true or false, got ${JSON.stringify(v)}`)
  } else {
    if (typeof v !== 'string') throw new ConfigError(`${name}: expected a string, got ${JSON.stringify(v)}`)
    if (f.values && !f.values.includes(v))
      throw new ConfigError(`${name}: must be one of ${f.values.join(', ')}, got "${v}"`)
  }
  return v
}

/** Converts env/flag text to the field's type before checking it. */
function fromText(name: string, f: Field, v: string | number | boolean): unknown {
  if (typeof v !== 'string') return checkValue(name, f, v)
  if (f.type === 'int') return checkValue(name, f, /^-?\d+$/.test(v.trim()) ? Number(v) : v)
  if (f.type === 'bool') return checkValue(name, f, v === 'true' ? true : v === 'false' ? false : v)
  return checkValue(name, f, v)
}

function set(out: Mutable, dotted: string, v: string | number | boolean, source: string): void {
  const [section, key, extra] = dotted.split('.')
  const f = section && key && !extra ? fieldOf(section, key) : undefined
  if (!f) throw new ConfigError(`${source}: unknown key ${dotted}`)
  out[section!]![key!] = fromText(`${source} ${dotted}`, f, v)
}

function mergeFile(out: Mutable, file: string): void {
  let doc: Record<string, unknown>
  try {
    doc = parse(readFileSync(file, 'utf8')) as Record<string, unknown>
  } catch (err) {
    throw new ConfigError(`${file}: ${(err as Error).message.split('\n')[0]}`)
  }
  for (const [section, body] of Object.entries(doc)) {
    if (!(section in schema)) throw new ConfigError(`${file}: unknown section [${section}]`)
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new ConfigError(`${file}: [${section}] must be a table`)
    for (const [key, v] of Object.entries(body)) {
      const f = fieldOf(section, key)
      if (!f) throw new ConfigError(`${file}: unknown key ${section}.${key}`)
      out[section]![key] = checkValue(`${file}: ${section}.${key}`, f, v)
    }
  }
}

/** The AGORA_* variable name of a key, e.g. relay.port -> AGORA_RELAY_PORT. */
export function envName(section: string, key: string): string {
  return `AGORA_${section}_${key}`.toUpperCase()
}

/** Builds the effective config or throws ConfigError naming the offending key. */
export function loadConfig(src: ConfigSources = {}): Config {
  const out: Mutable = {}
  const byEnv = new Map<string, string>()
  for (const [section, fields] of Object.entries(schema)) {
    out[section] = {}
    for (const [key, f] of Object.entries(fields as Record<string, Field>)) {
      out[section]![key] = f.default
      byEnv.set(envName(section, key), `${section}.${key}`)
    }
  }
  if (src.file) mergeFile(out, src.file)
  for (const [name, v] of Object.entries(src.env ?? process.env)) {
    if (!name.startsWith('AGORA_') || v === undefined) continue
    const dotted = byEnv.get(name)
    if (!dotted) throw new ConfigError(`environment: unknown variable ${name}`)
    set(out, dotted, v, `environment ${name}:`)
  }
  for (const [dotted, v] of Object.entries(src.flags ?? {})) set(out, dotted, v, 'flag')
  for (const s of Object.values(out)) Object.freeze(s)
  return Object.freeze(out) as unknown as Config
}
