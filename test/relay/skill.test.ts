// The /skill.md builder: each section follows the config it is given, and every example is JSON a client can sign.
import t from 'tap'
import { loadConfig } from '../../config/load.js'
import { policyInfo } from '../../policies/index.js'
import { buildSkill, publicUrl, skillUrl } from '../../relay/skill.js'

type Flags = Record<string, string | number | boolean | readonly string[]>

const PUBKEY = 'ab'.repeat(32)
const URL = 'wss://relay.example.com'
const ZAPPER = 'cd'.repeat(32)
const GATE: Flags = {
  'policies.zap_gate.enabled': true,
  'policies.zap_gate.zapper_pubkeys': [ZAPPER],
  'policies.zap_gate.lightning_address': 'pay@relay.example.com',
  'policies.zap_gate.min_sats': 42,
}

/** The document of a relay with the defaults changed by `flags`, as the running relay builds it. */
function doc(flags: Flags = {}, over: { pubkey?: string; kindVerdicts?: Map<number, boolean> } = {}): string {
  const cfg = loadConfig({ env: {}, flags })
  const pubkey = 'pubkey' in over ? over.pubkey : PUBKEY
  return buildSkill(cfg, { url: URL, pubkey, policies: policyInfo(cfg), kindVerdicts: over.kindVerdicts })
}

/** The text of a `## ` or `### ` section, up to the next heading of its level or above. */
function section(md: string, heading: string): string {
  const start = md.indexOf(`\n${heading}\n`)
  if (start < 0) throw new Error(`no section ${heading}`)
  const level = heading.split(' ')[0]!
  const rest = md.slice(start + heading.length + 2)
  const end = rest.search(new RegExp(`\\n#{1,${level.length}} `))
  return end < 0 ? rest : rest.slice(0, end)
}

/** The JSON of the example under the step whose heading starts with `title`. */
function example(md: string, title: string): { kind: number; tags: string[][]; content: string } {
  const m = new RegExp(`#### Step \\d+: ${title}[^\\n]*\\n[\\s\\S]*?\`\`\`json\\n([\\s\\S]*?)\\n\`\`\``).exec(md)
  if (!m) throw new Error(`no example for ${title}`)
  return JSON.parse(m[1]!) as { kind: number; tags: string[][]; content: string }
}

const steps = (md: string) => [...md.matchAll(/^#### Step (\d+): (.*)$/gm)].map(m => m[2])

t.test('publicUrl is relay.url, else ws:// and the Host header, else the listen address', async t => {
  const cfg = loadConfig({ env: {} })
  const set = loadConfig({ env: {}, flags: { 'relay.url': 'wss://relay.example.com' } })
  t.equal(publicUrl(set, 'other.example:80', 'ws://127.0.0.1:7777'), 'wss://relay.example.com')
  t.equal(publicUrl(cfg, 'relay.example.org:8080', 'ws://127.0.0.1:7777'), 'ws://relay.example.org:8080')
  t.equal(publicUrl(cfg, '[::1]:7777', 'ws://127.0.0.1:7777'), 'ws://[::1]:7777')
  t.equal(publicUrl(cfg, '', 'ws://127.0.0.1:7777'), 'ws://127.0.0.1:7777', 'no Host header')
  t.equal(publicUrl(cfg, 'evil.example/<script>', 'ws://127.0.0.1:7777'), 'ws://127.0.0.1:7777', 'not a host')
})

t.test('skillUrl turns wss into https and ws into http, dropping a trailing slash', async t => {
  t.equal(skillUrl('wss://relay.example.com'), 'https://relay.example.com/skill.md')
  t.equal(skillUrl('wss://relay.example.com/'), 'https://relay.example.com/skill.md')
  t.equal(skillUrl('ws://127.0.0.1:7777'), 'http://127.0.0.1:7777/skill.md')
  t.equal(skillUrl('wss://example.com/relay'), 'https://example.com/relay/skill.md')
})

t.test('the document names the relay, its URL, its pubkey and where it is served', async t => {
  const md = doc({ 'relay.name': 'my relay', 'relay.description': 'for agents' })
  t.match(md, /^# my relay: how to use this relay\n\n> for agents\n/)
  t.match(section(md, '## The relay'), `- URL: \`${URL}\``)
  t.match(section(md, '## The relay'), `- pubkey: \`${PUBKEY}\``)
  t.match(md, 'https://relay.example.com/skill.md (also https://relay.example.com/.well-known/nostr/skill.md)')
  t.match(md, '`GET https://relay.example.com` with `Accept: application/nostr+json`')
})

t.test('without a relay key yet, the document says so and the examples write a placeholder', async t => {
  const md = doc({}, { pubkey: undefined })
  t.match(section(md, '## The relay'), '- pubkey: none yet: the relay makes its key when it first starts')
  t.match(section(md, '## The market'), '`02<relay pubkey>`', 'the escrow key')
  t.match(section(md, '## The market'), '"authors": ["<relay pubkey>"]', 'the ledger filter')
  t.notMatch(md, 'undefined')
})

t.test('the PoW table lists the rules in order and the job request commits to its kind’s bits', async t => {
  const md = doc({ 'policies.pow.rules': ['5100:7', '5000-5999:9', '1:20'] })
  t.match(
    section(md, '### Proof of work (NIP-13)'),
    '| kinds | bits |\n|---|---|\n| 5100 | 7 |\n| 5000-5999 | 9 |\n| 1 | 20 |\n',
  )
  t.match(md, '`pow: kind 5100 needs 7 bits committed in a nonce tag, event has 0`')
  t.same(example(md, 'post a job request').tags.at(-1), ['nonce', '0', '7'])
  t.notOk(
    example(md, 'deliver the result').tags.some(tag => tag[0] === 'nonce'),
    'no rule for 6100: no nonce tag',
  )
})

t.test(
  'with a rule for every kind, each published example carries a nonce tag; AUTH and the zap request do not',
  async t => {
    const md = doc({ 'policies.pow.rules': ['*:3'], 'policies.auth_writes.enabled': true })
    for (const title of [
      'announce yourself',
      'say where ecash',
      'stay online',
      'post a job request',
      'quote',
      'deliver',
    ])
      t.same(example(md, title).tags.at(-1), ['nonce', '0', '3'], title)
    t.notOk(
      example(md, 'authenticate').tags.some(tag => tag[0] === 'nonce'),
      'AUTH is not a published event',
    )
    t.notOk(
      example(md, 'pay').tags.some(tag => tag[0] === 'nonce'),
      'the zap request goes to the LNURL server',
    )
  },
)

t.test('with PoW off or the relay open, no kind needs work and no example carries a nonce tag', async t => {
  for (const flags of [{ 'policies.pow.enabled': false }, { 'policies.open': true }] as Flags[]) {
    const md = doc(flags)
    t.match(section(md, '### Proof of work (NIP-13)'), 'No kind needs proof of work here')
    t.notMatch(md, '| kinds | bits |')
    t.notMatch(md, '"nonce"')
  }
})

t.test('the auth allowlist exemption is stated with its size', async t => {
  t.match(doc(), 'No pubkey is exempt')
  const md = doc({ 'policies.auth_allowlist': [ZAPPER, PUBKEY] })
  t.match(md, 'The operator exempts 2 pubkeys (its allowlist) from proof of work and the zap gate')
  t.notMatch(md, ZAPPER, 'without naming them')
})

t.test('the kind whitelist lists its entries; off or open, any kind is accepted', async t => {
  t.match(section(doc(), '### Kinds'), 'Accepted kinds: `0`, `3`, `5`, `10002`, `5000-5999`')
  t.match(
    section(doc({ 'policies.kind_whitelist.kinds': ['1', '5200-5299'] }), '### Kinds'),
    'Accepted kinds: `1`, `5200-5299`.',
  )
  t.match(section(doc({ 'policies.kind_whitelist.enabled': false }), '### Kinds'), 'Any kind is accepted.')
  t.match(section(doc({ 'policies.open': true }), '### Kinds'), 'Any kind is accepted.')
})

t.test('the operator’s kind verdicts (NIP-86) are part of the accepted kinds', async t => {
  const md = doc(
    {},
    {
      kindVerdicts: new Map([
        [1, true],
        [7000, false],
      ]),
    },
  )
  t.match(section(md, '### Kinds'), '`31990`, `1`. Any other kind')
  t.match(section(md, '### Kinds'), 'Refused by the operator: `7000`')
  t.match(
    section(md, '#### Step 6: quote, or say how it goes (kind 7000)'),
    'Kind 7000 is not accepted here: skip this step.',
  )
})

t.test('examples use an accepted job kind', async t => {
  const md = doc({ 'policies.kind_whitelist.kinds': ['5200-5299', '6200-6299', '7000'] })
  t.equal(example(md, 'post a job request').kind, 5200)
  t.equal(example(md, 'deliver the result').kind, 6200)
  t.match(md, 'agora job post --relay wss://relay.example.com --kind 5200')
  t.match(md, 'Kind 31990 is not accepted here: skip this step.')
})

t.test('zap gate on: its address, amount and kinds; off: no gate', async t => {
  const on = doc(GATE)
  const gate = section(on, '### Zap gate')
  t.match(gate, 'Kinds `5000-5999` are accepted only from pubkeys that zapped the relay at least 42 sats once')
  t.match(gate, '`pay@relay.example.com`')
  t.match(on, 'Its author must have zapped the relay first', 'the job request step says so')
  t.match(on, '`--pay-gate --nwc URI`')
  t.match(on, 'Keys that paid the zap gate share 1 % of it.')
  const off = doc()
  t.match(section(off, '### Zap gate'), 'No zap gate: publishing costs nothing.')
  t.notMatch(off, 'Its author must have zapped')
  t.notMatch(off, '--pay-gate')
})

t.test('rate limits on: the tables, reads and connections from the config; off: none', async t => {
  const md = doc({
    'policies.rate_limit.events_per_pubkey': ['5100:7', '*:70'],
    'policies.rate_limit.events_per_ip': ['*:77'],
    'policies.rate_limit.reads_per_ip': 123,
    'policies.rate_limit.connections_per_ip': 9,
  })
  const limits = section(md, '### Rate limits')
  t.match(limits, '| kinds | events per minute per author |\n|---|---|\n| 5100 | 7 |\n| * | 70 |\n')
  t.match(limits, '| kinds | events per minute per IP address |\n|---|---|\n| * | 77 |\n')
  t.match(limits, 'Reads (REQ and COUNT): 123 per minute per IP address. Connections: 9 open per IP address.')
  t.match(section(doc({ 'policies.rate_limit.enabled': false }), '### Rate limits'), 'No rate limits.')
})

t.test('auth_writes on: AUTH is required to publish, with an AUTH step; off: neither', async t => {
  const on = doc({ 'policies.auth_writes.enabled': true })
  t.match(section(on, '### Authentication (NIP-42)'), '- To publish: required.')
  t.same(steps(on).slice(0, 3), ['connect', 'authenticate (NIP-42)', 'announce yourself as a provider (kind 31990)'])
  const auth = example(on, 'authenticate')
  t.equal(auth.kind, 22242)
  t.same(auth.tags, [
    ['relay', URL],
    ['challenge', '<the challenge from the AUTH frame>'],
  ])
  const off = doc()
  t.match(section(off, '### Authentication (NIP-42)'), '- To publish: not required.')
  t.notOk(
    steps(off).some(s => s?.startsWith('authenticate')),
    'no AUTH step',
  )
  t.match(off, 'This relay needs no AUTH to publish or to read')
})

t.test('private reads on: the private kinds need AUTH to read', async t => {
  const md = doc({ 'policies.private_reads.enabled': true, 'policies.private_reads.kinds': ['7117-7118'] })
  t.match(section(md, '### Authentication (NIP-42)'), '- To read: kinds `7117-7118` are served only to their author')
  t.ok(steps(md).includes('authenticate (NIP-42)'))
  t.match(section(doc(), '### Authentication (NIP-42)'), '- To read: not required.')
})

t.test('the market section takes its numbers from the config', async t => {
  const md = doc({
    'market.job_ttl': 3600,
    'market.dispute_window': 7200,
    'market.escrow_margin': 60,
    'market.flag_threshold': 5,
    'market.offline_after': 120,
    'market.standing_interval': 45,
    'market.mints': ['https://mint.example.org/'],
    'market.trust_roots': [ZAPPER],
  })
  const m = section(md, '## The market')
  t.match(m, 'An open job expires 3600 s (1 hour) after the relay received its request.')
  t.match(m, 'received + 3600 + 7200 + 60 = received + 10860 s (181 minutes);')
  t.match(m, 'Mints: only `https://mint.example.org`, and only where the provider')
  t.match(m, `the relay's (\`02${PUBKEY}\`)`)
  t.match(m, 'Within 7200 s (2 hours) of the delivery the customer may dispute')
  t.match(m, 'At 5 the provider is flagged')
  t.match(m, 'less than 120 s (2 minutes) ago')
  t.match(m, 'at most every 45 s.')
  t.match(m, "operator's trust roots (1)")
  t.same(example(md, 'say where ecash').tags[1], ['mint', 'https://mint.example.org', 'sat'], 'the allowed mint')
  t.match(doc(), 'Mints: any mint the provider')
})

t.test('market off: no market section, and the relay says so', async t => {
  const md = doc({ 'market.enabled': false })
  t.notMatch(md, '## The market')
  t.notMatch(md, 'escrow lock')
  t.match(section(md, '## The relay'), '- market: off')
})

t.test('every JSON block parses, and the MCP snippet is exactly the documented one', async t => {
  for (const flags of [{}, GATE, { 'policies.auth_writes.enabled': true, 'policies.pow.rules': ['*:1'] }]) {
    const blocks = [...doc(flags).matchAll(/```json\n([\s\S]*?)\n```/g)].map(m => m[1]!)
    t.ok(blocks.length >= 9)
    for (const b of blocks) t.doesNotThrow(() => JSON.parse(b), b.slice(0, 40))
  }
  t.match(
    doc(),
    '```json\n{"mcpServers":{"agora":{"command":"npx","args":["-y","-p","agora-relay","agora","mcp","--relay","wss://relay.example.com"]}}}\n```',
  )
})

t.test('the document is the same for the same inputs (both paths serve the same bytes)', async t => {
  t.equal(doc(GATE), doc(GATE))
})
