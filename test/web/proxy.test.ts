// The market page behind the reverse proxies the README documents, nginx and Caddy (Debian's packages; .ci/run
// installs them), each run with the README's own configuration: only the public name, the ports and a test
// certificate are swapped in. Through each: NIP-11 on the same URL by Accept, and the page over https reading the
// relay live over wss.
import t from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { join } from 'node:path'
import { handlerInfo } from '../../client/market.js'
import { packageRoot } from '../../relay/package-root.js'
import { CHROMIUM, NO_CHROMIUM, openPage, text } from '../helpers/browser.js'
import { connectFor, putAll } from '../helpers/client.js'
import { signer } from '../helpers/events.js'
import { freeLowPort } from '../helpers/ports.js'
import { startTestRelay, tempDir } from '../helpers/relay.js'
import { sleep } from '../helpers/wait.js'

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find(p => existsSync(p))
const CADDY = ['/usr/bin/caddy', '/usr/local/bin/caddy'].find(p => existsSync(p))
const README = readFileSync(join(packageRoot(), 'README.md'), 'utf8')

/** The fenced block of the README that follows `after`. */
function readmeBlock(after: string): string {
  const from = README.indexOf(after)
  const m = /```[a-z]*\n([\s\S]*?)```/.exec(README.slice(from))
  if (from < 0 || !m) throw new Error(`README has no block after "${after}"`)
  return m[1]!
}

/** `text` with `from` replaced, failing when the README no longer holds it (the test must follow the docs). */
function swap(text: string, from: string | RegExp, to: string): string {
  if (!(typeof from === 'string' ? text.includes(from) : from.test(text)))
    throw new Error(`the README's proxy configuration no longer has ${String(from)}`)
  return text.replace(from, to)
}

/** GET over https, trusting the test certificate. */
function get(url: string, accept: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { Accept: accept }, rejectUnauthorized: false }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }))
    })
    req.on('error', reject)
    req.end()
  })
}

type Proxy = {
  name: string
  binary: string | undefined
  start: (dir: string, port: number, relayPort: number) => string[]
}

const proxies: Proxy[] = [
  {
    name: 'nginx',
    binary: NGINX,
    start: (dir, port, relayPort) => {
      let site = readmeBlock('nginx:')
      site = swap(site, 'listen 443 ssl', `listen 127.0.0.1:${port} ssl`)
      site = swap(site, 'server_name relay.example.com', 'server_name localhost')
      site = swap(site, /ssl_certificate\s+\S+;/, `ssl_certificate ${dir}/cert.pem;`)
      site = swap(site, /ssl_certificate_key\s+\S+;/, `ssl_certificate_key ${dir}/key.pem;`)
      site = swap(site, 'http://127.0.0.1:7777', `http://127.0.0.1:${relayPort}`)
      // One process in the foreground, with every file it writes in the temp dir.
      const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(k => `${k}_temp_path ${dir}/${k};`)
      writeFileSync(
        join(dir, 'nginx.conf'),
        `daemon off; master_process off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events {}
http { access_log off; ${temp.join(' ')}
${site}}
`,
      )
      return ['-p', dir, '-c', join(dir, 'nginx.conf')]
    },
  },
  {
    name: 'caddy',
    binary: CADDY,
    start: (dir, port, relayPort) => {
      let site = readmeBlock('Caddy (')
      site = swap(site, 'relay.example.com {', `https://localhost:${port} {\n    tls ${dir}/cert.pem ${dir}/key.pem`)
      site = swap(site, '127.0.0.1:7777', `127.0.0.1:${relayPort}`)
      // No admin endpoint, no port 80 redirect and no certificate authority: the test's certificate only.
      writeFileSync(
        join(dir, 'Caddyfile'),
        `{\n  admin off\n  auto_https off\n  storage file_system ${dir}/data\n}\n${site}`,
      )
      return ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile']
    },
  },
]

if (!CHROMIUM) t.plan(0, NO_CHROMIUM)
else await run(CHROMIUM)

async function run(chromium: string) {
  for (const p of proxies)
    await t.test(`the page behind ${p.name}, as the README configures it`, async t => {
      if (!p.binary) return t.plan(0, `no ${p.name} on this machine (.ci/run installs Debian’s package)`)
      const relay = await startTestRelay(t)
      const relayPort = Number(new URL(relay.url).port)
      const dir = tempDir(t, `agora-${p.name}-`)
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      )
      const port = await freeLowPort()
      const args = p.start(dir, port, relayPort)
      const child = spawn(p.binary, args, {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
      })
      let stderr = ''
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
      const exited = new Promise(resolve => child.once('exit', resolve))
      t.teardown(async () => {
        child.kill('SIGTERM')
        await exited
      })
      const base = `https://localhost:${port}`
      // Up once it answers NIP-11 through to the relay.
      const deadline = Date.now() + 60_000
      let info: { status: number; type: string; body: string } | undefined
      while (!info) {
        if (child.exitCode !== null) throw new Error(`${p.name} exited: ${stderr}`)
        info = await get(base, 'application/nostr+json').catch(() => undefined)
        if (!info && Date.now() > deadline) throw new Error(`${p.name} did not answer: ${stderr}`)
        if (!info) await sleep(100)
      }
      t.equal(info.status, 200)
      t.match(info.type, 'application/nostr+json', 'NIP-11 on the same URL, by Accept')
      const self = (JSON.parse(info.body) as { self: string }).self
      t.match((await get(base, 'text/html')).body, '<script type="module" src="app.js">', 'a browser gets the page')

      const { page, errors, shot } = await openPage(t, chromium, ['--ignore-certificate-errors'])
      await page.goto(`${base}/#/relay`)
      await page.waitForSelector('table.facts', { timeout: 60_000 })
      t.match(await text(page, 'table.facts'), `wss://localhost:${port}/`, 'the page reaches the relay over wss')
      t.match(await text(page, 'table.facts'), self)
      await page.goto(`${base}/#/providers`)
      await page.waitForSelector('main .state', { timeout: 60_000 })
      // Published straight to the relay, seen through the proxy's WebSocket while the page is open.
      const provider = signer()
      const c = await connectFor(t, relay.url)
      await putAll(c, provider.sign(handlerInfo('p', [5100], JSON.stringify({ name: `Seen through ${p.name}` }))))
      await page.waitForSelector(`tr[data-pubkey="${provider.pubkey}"]`, { timeout: 60_000 })
      t.match(await text(page, `tr[data-pubkey="${provider.pubkey}"]`), `Seen through ${p.name}`)
      t.equal(await page.$eval('#connection', n => (n as HTMLElement).hidden), true, 'connected')
      await shot(`proxy-${p.name}`)
      t.same(errors, [], 'no script error on the page')
    })
}
