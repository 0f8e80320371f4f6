// Flags of the client commands, each with a matching environment variable AGORA_CLIENT_<FLAG> (dashes as
// underscores; repeatable flags take a comma-separated list). The relay's config loader leaves these alone.
import { parseArgs } from 'node:util'
import { ClientError } from '../errors.js'

export type Spec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>
export type Values = Record<string, string | boolean | string[] | undefined>

/** The flags of `argv` by `spec`, with AGORA_CLIENT_* filling what the flags leave out, and the positionals. */
export function readOptions(argv: string[], spec: Spec): { values: Values; positionals: string[] } {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...spec, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
    })
  } catch (err) {
    throw new ClientError((err as Error).message, 2)
  }
  const values: Values = { ...parsed.values }
  for (const [name, s] of Object.entries(spec)) {
    if (values[name] !== undefined) continue
    const v = process.env[`AGORA_CLIENT_${name.toUpperCase().replaceAll('-', '_')}`]
    if (v === undefined || v === '') continue
    values[name] = s.type === 'boolean' ? v === '1' || v === 'true' : s.multiple ? v.split(',') : v
  }
  return { values, positionals: parsed.positionals }
}

/** A flag as a string; required ones throw naming the flag. */
export function str(v: Values, name: string, required: true): string
export function str(v: Values, name: string, required?: false): string | undefined
export function str(v: Values, name: string, required = false): string | undefined {
  const x = v[name]
  if (typeof x === 'string') return x
  if (required) throw new ClientError(`--${name} is required`, 2)
  return undefined
}

/** A repeatable flag's values. */
export const list = (v: Values, name: string): string[] => {
  const x = v[name]
  return Array.isArray(x) ? x : typeof x === 'string' ? [x] : []
}

/** A flag as a whole number within bounds. */
export function int(
  v: Values,
  name: string,
  o: { min?: number; max?: number; fallback?: number } = {},
): number | undefined {
  const x = v[name]
  if (x === undefined) return o.fallback
  if (typeof x !== 'string' || !/^\d+$/.test(x)) throw new ClientError(`--${name} must be a whole number`, 2)
  const n = Number(x)
  if ((o.min !== undefined && n < o.min) || (o.max !== undefined && n > o.max))
    throw new ClientError(`--${name} must be from ${o.min ?? 0} to ${o.max ?? '∞'}`, 2)
  return n
}
