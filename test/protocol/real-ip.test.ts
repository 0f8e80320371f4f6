import t from 'tap'
import WebSocket from 'ws'
import { startTestRelay } from '../helpers/relay.js'

/** Opens a socket with an X-Forwarded-For header; resolves 'open' or the HTTP status of a refused upgrade. */
function open(url: string, forwarded: string, t: { teardown(fn: () => unknown): void }): Promise<'open' | number> {
  const ws = new WebSocket(url, { headers: { 'x-forwarded-for': forwarded } })
  t.teardown(() => ws.terminate())
  return new Promise(resolve => {
    ws.once('open', () => resolve('open'))
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
    ws.once('error', () => undefined)
  })
}

const flags = { 'policies.open': false, 'policies.rate_limit.connections_per_ip': 1 }

t.test('behind a proxy, connection caps count the client address from real_ip_header', async t => {
  const { url } = await startTestRelay(t, { ...flags, 'relay.real_ip_header': 'x-forwarded-for' })
  t.equal(await open(url, '203.0.113.1', t), 'open', 'first client')
  t.equal(await open(url, '203.0.113.2', t), 'open', 'another client through the same proxy')
  t.equal(await open(url, '198.51.100.9, 203.0.113.1', t), 429, 'the last forwarded address is the client')
})

t.test('without real_ip_header, forwarded headers are ignored and the socket address counts', async t => {
  const { url } = await startTestRelay(t, flags)
  t.equal(await open(url, '203.0.113.1', t), 'open')
  t.equal(await open(url, '203.0.113.2', t), 429, 'a spoofed header does not escape the cap')
})
