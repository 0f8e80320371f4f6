// GET /skill.md on a real relay: an agent that follows the document literally gets its job request accepted, and the
// document follows a config reload. Also its second path, the NIP-11 field and the landing page's link.
import t from 'tap'
import { request } from 'node:http'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { getPow } from 'nostr-tools/nip13'
import { finalizeEvent, generateSecretKey, getEventHash, getPublicKey } from 'nostr-tools/pure'
import { ensureBuilt, startCliWithConfig } from '../helpers/cli.js'
import { connectFor, queryIds } from '../helpers/client.js'
import { bitsFor } from '../helpers/pow.js'
import { startTestRelay, tempDir } from '../helpers/relay.js'
import { sleep } from '../helpers/wait.js'

ensureBuilt()

type Template = { kind: number; pubkey: unknown; created_at: unknown; tags: string[][]; content: string }

const httpBase = (url: string) => url.replace(/^ws:/, 'http:')

/** A config file's text: anti-spam on with the given PoW rule, loopback, a free port. */
const configToml = (dataDir: string, powRule: string) =>
  [
    '[relay]',
    'host = "127.0.0.1"',
    'port = 0',
    `data_dir = ${JSON.stringify(dataDir)}`,
    '[log]',
    'level = "warn"',
    '[policies]',
    'open = false',
    '[policies.pow]',
    `rules = [${JSON.stringify(powRule)}]`,
    '',
  ].join('\n')

/** The PoW table as an agent reads it: `| kinds | bits |`, then one row per rule. */
function powRows(doc: string): { kinds: string; bits: number }[] {
  const m = /^\| kinds \| bits \|\n\|---\|---\|\n((?:\|.*\|\n)+)/m.exec(doc)
  if (!m) throw new Error('no PoW table in the document')
  return m[1]!
    .trim()
    .split('\n')
    .map(row => {
      const [kinds, bits] = row
        .split('|')
        .slice(1, 3)
        .map(c => c.trim()) as [string, string]
      return { kinds, bits: Number(bits) }
    })
}

/** The example under the step "post a job request". */
function jobRequest(doc: string): Template {
  const m = /^#### Step \d+: post a job request[^\n]*\n[\s\S]*?```json\n([\s\S]*?)\n```/m.exec(doc)
  if (!m) throw new Error('no job request example in the document')
  return JSON.parse(m[1]!) as Template
}

/**
 * What the document says to do: fill in pubkey and created_at, commit the nonce tag to `target`, try n = 0, 1, 2, …
 * until the id has that many leading zero bits, then sign.
 */
function mineAndSign(template: Template, sk: Uint8Array, target: number) {
  const tags = template.tags.map(tag => (tag[0] === 'nonce' ? ['nonce', '0', String(target)] : [...tag]))
  const nonce = tags.find(tag => tag[0] === 'nonce')!
  const base = { kind: template.kind, created_at: Math.floor(Date.now() / 1000), content: template.content }
  for (let n = 0; ; n++) {
    nonce[1] = String(n)
    if (getPow(getEventHash({ ...base, tags, pubkey: getPublicKey(sk) })) >= target)
      return finalizeEvent({ ...base, tags }, sk)
  }
}

/** GET `path` with a Host header of our choosing (fetch does not let a caller set it). */
function getWithHost(url: string, path: string, host: string, accept = '*/*') {
  const u = new URL(httpBase(url))
  return new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, headers: { host, accept } }, res => {
      let body = ''
      res.setEncoding('utf8').on('data', (s: string) => (body += s))
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }))
    })
    req.on('error', reject).end()
  })
}

/** Fetches /skill.md until `cond` holds; the relay reloads its file on its own, so the test waits for it to. */
async function skillWhen(base: string, cond: (doc: string) => boolean, what: string): Promise<string> {
  const deadline = Date.now() + 120_000
  for (;;) {
    const doc = await (await fetch(`${base}/skill.md`)).text()
    if (cond(doc)) return doc
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

t.test(
  'an agent following /skill.md literally gets its job request accepted, and the document follows a reload',
  async t => {
    const dir = tempDir(t, 'agora-skill-')
    const file = join(dir, 'agora.toml')
    writeFileSync(file, configToml(join(dir, 'data'), '5000-5999:8'))
    const cli = await startCliWithConfig(t, file)
    const base = httpBase(cli.url)
    const c = await connectFor(t, cli.url)
    const sk = generateSecretKey()

    await t.test('GET /skill.md is markdown with CORS', async t => {
      const res = await fetch(`${base}/skill.md`)
      t.equal(res.status, 200)
      t.equal(res.headers.get('content-type'), 'text/markdown; charset=utf-8')
      t.equal(res.headers.get('access-control-allow-origin'), '*')
      t.match(await res.text(), /^# agora: how to use this relay\n/)
    })

    await t.test('the job request it shows, mined to the bits its PoW table names, is accepted and stored', async t => {
      const doc = await (await fetch(`${base}/skill.md`)).text()
      const template = jobRequest(doc)
      t.equal(template.kind, 5100)
      const bits = bitsFor(powRows(doc), template.kind)
      t.equal(bits, 8, 'the table gives the configured rule')
      t.same(
        template.tags.find(tag => tag[0] === 'nonce'),
        ['nonce', '0', '8'],
        'the example commits to the same bits',
      )
      const e = mineAndSign(template, sk, bits)
      t.same(await c.publish(e), ['OK', e.id, true, ''])
      t.same(await queryIds(c, { ids: [e.id] }), [e.id], 'a REQ returns it')
    })

    await t.test('the same request committing to one bit less is refused with pow:', async t => {
      const doc = await (await fetch(`${base}/skill.md`)).text()
      const e = mineAndSign(jobRequest(doc), sk, 7)
      const ok = await c.publish(e)
      t.equal(ok[2], false)
      t.equal(ok[3], 'pow: kind 5100 needs 8 bits committed in a nonce tag, event has 7')
      t.same(await queryIds(c, { ids: [e.id] }), [], 'nothing stored')
    })

    await t.test('/.well-known/nostr/skill.md serves the same bytes', async t => {
      const res = await fetch(`${base}/.well-known/nostr/skill.md`)
      t.equal(res.status, 200)
      t.equal(res.headers.get('content-type'), 'text/markdown; charset=utf-8')
      t.equal(res.headers.get('access-control-allow-origin'), '*')
      t.equal(await res.text(), await (await fetch(`${base}/skill.md`)).text())
    })

    await t.test('NIP-11 names the document in its skill field', async t => {
      const info = (await (await fetch(base, { headers: { Accept: 'application/nostr+json' } })).json()) as {
        skill: string
      }
      t.equal(info.skill, `${base}/skill.md`)
    })

    await t.test('the landing page links it', async t => {
      const html = await (await fetch(base, { headers: { Accept: 'text/html' } })).text()
      t.match(html, '<a href="skill.md">skill.md</a>')
    })

    await t.test('a new PoW rule in the file reaches the document, and the relay enforces what it says', async t => {
      writeFileSync(file, configToml(join(dir, 'data'), '5000-5999:12'))
      const doc = await skillWhen(base, d => d.includes('| 5000-5999 | 12 |'), 'the reloaded rule in /skill.md')
      t.notMatch(doc, '| 5000-5999 | 8 |', 'the old rule is gone')
      const template = jobRequest(doc)
      t.same(
        template.tags.find(tag => tag[0] === 'nonce'),
        ['nonce', '0', '12'],
      )
      t.equal(bitsFor(powRows(doc), template.kind), 12)
      const old = mineAndSign(template, sk, 8)
      t.equal((await c.publish(old))[3], 'pow: kind 5100 needs 12 bits committed in a nonce tag, event has 8')
      const e = mineAndSign(template, sk, 12)
      t.same(await c.publish(e), ['OK', e.id, true, ''], 'mined to the new rule, it is accepted')
    })
  },
)

t.test('with relay.url set, the document and NIP-11 use it (wss becomes https)', async t => {
  const { url } = await startTestRelay(t, { 'relay.url': 'wss://relay.example.com' })
  const doc = await getWithHost(url, '/skill.md', 'ignored.example:1')
  t.match(doc.body, '- URL: `wss://relay.example.com`')
  t.match(doc.body, 'https://relay.example.com/skill.md')
  const info = await getWithHost(url, '/', 'ignored.example:1', 'application/nostr+json')
  t.equal((JSON.parse(info.body) as { skill: string }).skill, 'https://relay.example.com/skill.md')
})

t.test(
  'without relay.url, the document and NIP-11 take the Host header, or the listen address for a bad one',
  async t => {
    const { url } = await startTestRelay(t)
    const doc = await getWithHost(url, '/skill.md', 'relay.example.org:8080')
    t.equal(doc.status, 200)
    t.match(doc.body, '- URL: `ws://relay.example.org:8080`')
    const info = await getWithHost(url, '/', 'relay.example.org:8080', 'application/nostr+json')
    t.equal((JSON.parse(info.body) as { skill: string }).skill, 'http://relay.example.org:8080/skill.md')
    const bad = await getWithHost(url, '/skill.md', 'evil.example/<b>')
    t.match(bad.body, `- URL: \`${url}\``)
    t.notMatch(bad.body, '<b>')
  },
)
