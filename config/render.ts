// Renders config/agora.toml from the schema: every key with its default and doc line.
import { stringify } from 'smol-toml'
import { isField, type Field, type Section } from './fields.js'
import { schema } from './schema.js'

function renderTable(lines: string[], path: string, node: Section): void {
  const fields = Object.entries(node).filter((e): e is [string, Field] => isField(e[1]))
  if (fields.length > 0) lines.push('', `[${path}]`)
  for (const [key, f] of fields) {
    const choices = f.type === 'string' && f.values ? ` One of: ${f.values.join(', ')}.` : ''
    lines.push(`# ${f.doc}${choices}${f.restart ? ' (restart)' : ''}`)
    lines.push(stringify({ [key]: f.default }).trim())
  }
  for (const [key, child] of Object.entries(node)) if (!isField(child)) renderTable(lines, `${path}.${key}`, child)
}

/** The text of the defaults file. */
export function renderDefaults(): string {
  const lines = [
    '# agora configuration. Every key is shown with its default; delete what you do not change.',
    '# Override any key with AGORA_<SECTION>_<KEY> in the environment, or with CLI flags.',
    '# Keys marked (restart) can only change with a restart.',
  ]
  for (const [section, node] of Object.entries(schema)) renderTable(lines, section, node as Section)
  return lines.join('\n') + '\n'
}
