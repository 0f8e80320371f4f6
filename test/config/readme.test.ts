import { readFileSync } from 'node:fs'
import t from 'tap'
import { schemaFields } from '../../config/load.js'

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

t.test('the README documents every config key', async t => {
  for (const [path] of schemaFields()) t.match(readme, `\`${path}\``, `${path} is in README.md`)
})

t.test('the README keeps the two set-up commands', async t => {
  t.match(readme, 'npm install && npm start')
  t.match(readme, 'npm test')
})
