// Renders config/agora.reference.toml from the schema: every key with its default, range and doc line.
import { stringify } from 'smol-toml'
import { isField, type Field, type Section, type TablesField } from './fields.js'
import { schema } from './schema.js'

/** What a key accepts beyond its type, as the reference states it. */
function allowed(f: Field): string {
  if (f.type === 'int') return ` Range: ${f.min}..${f.max}.`
  if (f.type === 'list' && f.range) return ` Range: ${f.range}.`
  if (f.type === 'string' && f.values) return ` One of: ${f.values.join(', ')}.`
  return ''
}

/** `key = value` on one line; a table inline (`filter = { since = 0 }`), as an entry of an array of tables needs. */
function line(key: string, v: unknown): string {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return stringify({ [key]: v }).trim()
  const inner = Object.entries(v).map(([k, x]) => line(k, x))
  return `${key} = {${inner.length > 0 ? ` ${inner.join(', ')} ` : ''}}`
}

/** An array of tables: `key = []` (the default, none), then one entry as a commented example, a doc line per key. */
function renderTables(lines: string[], key: string, f: TablesField): void {
  lines.push('', `# ${f.doc}${allowed(f)}${f.restart ? ' (restart)' : ''}`, line(key, f.default))
  lines.push('# For example:', `# [[${key}]]`)
  for (const [name, field] of Object.entries(f.entry)) {
    lines.push(`# # ${field.doc}${allowed(field)}`)
    lines.push(`# ${f.required.includes(name) ? `${name} = "wss://..."` : line(name, field.default)}`)
  }
}

function renderTable(lines: string[], path: string, node: Section): void {
  const fields = Object.entries(node).filter((e): e is [string, Field] => isField(e[1]))
  if (fields.length > 0) lines.push('', `[${path}]`)
  for (const [key, f] of fields) {
    lines.push(`# ${f.doc}${allowed(f)}${f.restart ? ' (restart)' : ''}`)
    lines.push(stringify({ [key]: f.default }).trim())
  }
  for (const [key, child] of Object.entries(node)) if (!isField(child)) renderTable(lines, `${path}.${key}`, child)
}

/** The text of the reference file. */
export function renderDefaults(): string {
  const lines = [
    '# agora configuration reference: every key with its default, what it accepts and what it does.',
    '# GENERATED from config/schema.ts by `npm run config:generate`: do not edit it. The relay never reads this file.',
    '#',
    '# Your own settings go in ./agora.toml, which `agora start` (and `npm start`) reads from the directory it runs in,',
    '# or in any file given with --config FILE. To start one, copy this file:',
    '#   cp config/agora.reference.toml agora.toml',
    '# then delete every key you keep at its default, and check the file with `agora config check agora.toml`.',
    '# AGORA_<SECTION>_<KEY> environment variables and CLI flags override the file.',
    '# Keys marked (restart) change only with a restart; the others apply on SIGHUP or when the file is saved.',
  ]
  // Keys of the top level (arrays of tables) go before the first [section], where TOML wants them.
  for (const [key, node] of Object.entries(schema))
    if (isField(node) && node.type === 'tables') renderTables(lines, key, node)
  for (const [section, node] of Object.entries(schema)) if (!isField(node)) renderTable(lines, section, node)
  return lines.join('\n') + '\n'
}
