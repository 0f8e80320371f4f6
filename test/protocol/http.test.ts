import t from 'tap'
import { rawClient } from '../helpers/client.js'
import { now, signer } from '../helpers/events.js'
import { startTestRelay } from '../helpers/relay.js'
import { sleep } from '../helpers/wait.js'

/** The relay's HTTP base for its ws:// URL (HTTP and WebSocket share the port). */
const httpBase = (url: string) => url.replace(/^ws:/, 'http:')

const nostrJson = { Accept: 'application/nostr+json' }

t.test('GET / with Accept: application/nostr+json returns the NIP-11 document with CORS', async t => {
  const { url } = await startTestRelay(t)
  const res = await fetch(httpBase(url) + '/', { headers: nostrJson })
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^application\/nostr\+json/)
  t.equal(res.headers.get('access-control-allow-origin'), '*')
  const doc = (await res.json()) as Record<string, unknown>
  t.equal(doc.software, 'agora')
  t.type(doc.name, 'string')
  t.type(doc.limitation, 'object')
})

t.test('NIP-11 self and pubkey are the relay key', async t => {
  const { url, relay } = await startTestRelay(t)
  const doc = (await (await fetch(httpBase(url) + '/', { headers: nostrJson })).json()) as Record<string, unknown>
  t.match(relay.pubkey, /^[0-9a-f]{64}$/)
  t.equal(doc.self, relay.pubkey)
  t.equal(doc.pubkey, relay.pubkey)
})

t.test('NIP-11 supported_nips lists the implemented NIPs', async t => {
  const { url } = await startTestRelay(t)
  const doc = (await (await fetch(httpBase(url) + '/', { headers: nostrJson })).json()) as { supported_nips: number[] }
  for (const nip of [1, 9, 11, 40, 42, 45, 70]) t.ok(doc.supported_nips.includes(nip), `NIP-${nip} listed`)
  t.ok(
    doc.supported_nips.every(n => Number.isInteger(n)),
    'only integers',
  )
  t.same(
    doc.supported_nips,
    [...new Set(doc.supported_nips)].sort((a, b) => a - b),
    'sorted, no repeats',
  )
})

t.test('NIP-11 limitation follows the effective config', async t => {
  const flags = {
    'limits.max_message_length': 65536,
    'limits.max_subscriptions': 7,
    'limits.max_filters': 3,
    'limits.max_limit': 123,
    'limits.default_limit': 45,
    'limits.max_subid_length': 32,
    'limits.max_event_tags': 99,
    'limits.max_content_length': 1000,
    'limits.created_at_lower_limit': 1000,
    'limits.created_at_upper_limit': 60,
  }
  const { url, cfg } = await startTestRelay(t, flags)
  const doc = (await (await fetch(httpBase(url) + '/', { headers: nostrJson })).json()) as {
    limitation: Record<string, unknown>
  }
  for (const [dotted, value] of Object.entries(flags)) {
    const key = dotted.split('.')[1]! as keyof typeof cfg.limits
    t.equal(cfg.limits[key], value, `${key} is set in the effective config`)
    t.equal(doc.limitation[key], value, `limitation.${key}`)
  }
})

t.test('GET / without the NIP-11 Accept header returns an HTML page', async t => {
  const { url, relay } = await startTestRelay(t)
  const res = await fetch(httpBase(url) + '/', { headers: { Accept: 'text/html' } })
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/html/)
  const body = await res.text()
  t.match(body, /^<!doctype html>/i)
  t.match(body, relay.pubkey, 'the page shows the relay pubkey')
})

t.test('the market page: its policy, the NIP-11 document inside it whatever the text, and its script', async t => {
  const description = 'Agents </script><script>alert(1)</script> & <b>friends</b>'
  const { url } = await startTestRelay(t, { 'relay.description': description })
  const res = await fetch(httpBase(url) + '/', { headers: { Accept: 'text/html' } })
  const csp = res.headers.get('content-security-policy') ?? ''
  t.match(csp, "script-src 'self'", 'only the relay’s own script runs')
  t.match(csp, "default-src 'none'")
  t.match(csp, 'connect-src')
  const body = await res.text()
  t.equal(body.split('</script>').length - 1, 2, 'only the page’s own two script elements end in it')
  t.notMatch(body, '<script>alert(1)', 'the description never becomes an element')
  const embedded = /<script type="application\/json" id="relay-info">(.*?)<\/script>/s.exec(body)?.[1] ?? ''
  const doc = (await (await fetch(httpBase(url) + '/', { headers: nostrJson })).json()) as Record<string, unknown>
  t.same(JSON.parse(embedded), doc, 'the embedded document is NIP-11’s')
  t.equal((JSON.parse(embedded) as { description: string }).description, description)
  const script = await fetch(httpBase(url) + '/app.js')
  t.equal(script.status, 200)
  t.match(script.headers.get('content-type'), /^text\/javascript/)
  t.match(script.headers.get('content-security-policy'), "script-src 'self'")
  t.ok((await script.text()).length > 1000, 'the bundle built by npm run build')
})

t.test('GET /health returns 200 {"status":"ok"}', async t => {
  const { url } = await startTestRelay(t)
  const res = await fetch(httpBase(url) + '/health')
  t.equal(res.status, 200)
  t.same(await res.json(), { status: 'ok' })
})

t.test('OPTIONS returns the CORS headers', async t => {
  const { url } = await startTestRelay(t)
  const res = await fetch(httpBase(url) + '/', {
    method: 'OPTIONS',
    headers: {
      Origin: 'https://client.example',
      'Access-Control-Request-Method': 'GET',
      'Access-Control-Request-Headers': 'accept',
    },
  })
  t.ok(res.status === 200 || res.status === 204, `status ${res.status}`)
  t.equal(res.headers.get('access-control-allow-origin'), '*')
  t.match(res.headers.get('access-control-allow-methods'), /GET/)
  t.ok(res.headers.get('access-control-allow-headers'), 'allowed headers are declared')
})

t.test('an unknown path is 404', async t => {
  const { url } = await startTestRelay(t)
  const res = await fetch(httpBase(url) + '/no/such/path')
  t.equal(res.status, 404)
  await res.text()
  const post = await fetch(httpBase(url) + '/nip11', { method: 'POST', body: 'x' })
  t.equal(post.status, 404, 'other methods on unknown paths too')
  await post.text()
})

t.test('a client that stops reading is cut off while another client is still served', async t => {
  const { url } = await startTestRelay(t, { 'limits.max_outbound_bytes': 65536 })
  const writer = await rawClient(url)
  const a = signer()
  const base = now() - 1000
  const events = Array.from({ length: 300 }, (_, i) =>
    a.sign({ created_at: base + i, content: `${i} ${'x'.repeat(2000)}` }),
  )
  for (const e of events) writer.send(['EVENT', e])
  const oks = await Promise.all(events.map(e => writer.ok(e.id)))
  t.ok(
    oks.every(m => m[2] === true),
    '300 events of ~2 KB stored',
  )

  const slow = await rawClient(url)
  slow.ws.pause() // stops reading the TCP socket: the relay's unsent bytes pile up
  const reqs = 50
  const started = Date.now()
  for (let i = 0; i < reqs; i++) slow.send(['REQ', `all-${i % 10}`, { authors: [a.pubkey], limit: 300 }])

  // While the slow client is stuck, the relay still answers someone else.
  await sleep(500)
  const other = await rawClient(url)
  const fresh = signer().sign({ content: 'served while another client is stuck' })
  t.equal((await other.publish(fresh))[2], true, 'another client still gets OK')
  const r = await other.req('check', { ids: [fresh.id] })
  t.same(
    r.events.map(e => e.id),
    [fresh.id],
    'another client still gets answers',
  )

  // Reading again drains what the kernel buffered; the relay must have ended the connection by then.
  slow.ws.resume()
  const code = await Promise.race([slow.closed, sleep(10_000).then(() => 'still open')])
  t.ok(code === 1008 || code === 1006, `connection closed (code ${code})`)
  t.ok(Date.now() - started < 15_000, 'within a bounded time')
  const delivered = slow.pending().filter(m => m[0] === 'EVENT').length
  t.ok(delivered < reqs * events.length, `cut off before all answers (${delivered} of ${reqs * events.length} events)`)
})
