// docs/agents.md lists every MCP tool with its description and arguments as the running server answers tools/list:
// asked over stdio of a real `agora mcp`, rendered, and compared with the page.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { toolsMarkdown, toolsSection } from '../../client/mcp/doc.js'
import { tools } from '../../client/mcp/server.js'
import { loadConfig } from '../../config/load.js'
import { policyInfo } from '../../policies/index.js'
import { buildSkill } from '../../relay/skill.js'
import { repoRoot } from '../helpers/cli.js'
import { startMcp } from '../helpers/mcp.js'

t.test('docs/agents.md lists every tool the server lists, with its description and schema', async t => {
  const mcp = await startMcp(t, ['--relay', 'ws://127.0.0.1:1'])
  const { tools } = await mcp.client.listTools()
  t.ok(tools.length >= 20, `the server lists its tools (${tools.length})`)
  const page = readFileSync(join(repoRoot, 'docs/agents.md'), 'utf8')
  const section = toolsSection(page)
  t.ok(section, 'the page has the generated section')
  t.equal(section, toolsMarkdown(tools), 'the page matches tools/list: run `npm run docs:mcp` after changing a tool')
  for (const tool of tools) {
    t.ok(page.includes(`### \`${tool.name}\``), `${tool.name} has its heading`)
    t.ok(page.includes(tool.description!), `${tool.name}'s description is on the page`)
  }
})

t.test('the rendering shows what a schema says: required, bounds, enums, lists and objects', async t => {
  const md = toolsMarkdown([
    {
      name: 'demo',
      description: 'A demo.',
      inputSchema: {
        type: 'object',
        properties: {
          kind: { type: 'integer', minimum: 5000, maximum: 5999, description: 'a kind' },
          n: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
          how: { type: 'string', enum: ['a', 'b'] },
          steps: { type: 'array', items: { type: 'object', properties: { kind: {}, x: {} }, required: ['kind'] } },
          mint: { type: 'string', format: 'uri' },
        },
        required: ['kind'],
      },
    },
    { name: 'none', description: 'Nothing to give.', inputSchema: { type: 'object', properties: {} } },
  ])
  t.match(md, '| `kind` | integer 5000-5999 | yes | a kind |')
  t.match(md, '| `n` | integer ≥ 0 |  |  |', 'a safe-integer bound is not shown')
  t.match(md, '| `how` | "a" \\| "b" |  |  |')
  t.match(md, '| `steps` | {kind, x?}[] |  |  |')
  t.match(md, '| `mint` | URL |  |  |')
  t.match(md, '### `none`\n\nNothing to give.\n\nNo arguments.\n')
  t.equal(toolsSection('no markers here'), undefined, 'a page without the markers has no section')
})

t.test('the tools /skill.md names for `agora mcp` are tools the server has', async t => {
  const cfg = loadConfig({ env: {}, flags: {} })
  const doc = buildSkill(cfg, { url: 'ws://127.0.0.1:7777', pubkey: 'ab'.repeat(32), policies: policyInfo(cfg) })
  const section = doc.slice(doc.indexOf('`agora mcp`'))
  const named = [...section.matchAll(/`([a-z]+(?:_[a-z]+)+)`/g)].map(m => m[1]!)
  t.ok(named.length >= 10, `the document names the tools (${named.join(', ')})`)
  for (const name of named) t.ok(name in tools, `${name} is a tool`)
})
