import { readFileSync } from 'node:fs'
import t from 'tap'
import { schema } from '../../config/schema.js'

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

t.test('the README documents every config key', async t => {
  for (const [section, fields] of Object.entries(schema))
    for (const key of Object.keys(fields)) t.match(readme, `\`${section}.${key}\``, `${section}.${key} is in README.md`)
})

t.test('the README keeps the two set-up commands', async t => {
  t.match(readme, 'npm install && npm start')
  t.match(readme, 'npm test')
})
