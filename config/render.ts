// Renders config/agora.toml from the schema: every key with its default and doc line.
import { stringify } from 'smol-toml'
import { schema, type Field } from './schema.js'

/** The text of the defaults file. */
export function renderDefaults(): string {
  const lines = [
    '# agora configuration. Every key is shown with its default; delete what you do not change.',
    '# Override any key with AGORA_<SECTION>_<KEY> in the environment, or with CLI flags.',
    '# Keys marked (restart) can only change with a restart.',
  ]
  for (const [section, fields] of Object.entries(schema)) {
    lines.push('', `[${section}]`)
    for (const [key, f] of Object.entries(fields as Record<string, Field>)) {
      const choices = f.type === 'string' && f.values ? ` One of: ${f.values.join(', ')}.` : ''
      lines.push(`# ${f.doc}${choices}${f.restart ? ' (restart)' : ''}`)
      lines.push(stringify({ [key]: f.default }).trim())
    }
  }
  return lines.join('\n') + '\n'
}
