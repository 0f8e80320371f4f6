// Frames past the hard frame limit (4 x limits.max_message_length, at least 1 MiB): up to twice that limit the
// relay reads the frame and closes with 1009 and a reason; past it uWS cuts the socket on the frame's header.
import t from 'tap'
import WebSocket from 'ws'
import { connectFor, putAll } from '../helpers/client.js'
import { signer } from '../helpers/events.js'
import { startTestRelay } from '../helpers/relay.js'
import { storedIds } from '../helpers/stored.js'

const MiB = 1 << 20

/** Sends one text frame of `bytes` bytes and resolves with the close code and reason the client sees. */
function sendFrame(url: string, bytes: number): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.once('open', () => ws.send(`["EVENT",${JSON.stringify('x'.repeat(bytes - 12))}]`))
    ws.on('error', () => undefined) // a cut socket reports ECONNRESET before its close
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }))
    setTimeout(() => reject(new Error(`no close after a ${bytes}-byte frame`)), 60_000).unref()
  })
}

t.test('a frame over the hard limit gets close 1009 with a reason naming the limit, and the relay goes on', async t => {
  const { url } = await startTestRelay(t, { 'limits.max_message_length': 4096 })
  const bytes = Math.floor(1.5 * MiB)
  t.strictSame(await sendFrame(url, bytes), { code: 1009, reason: `message too big: ${bytes} bytes, limit 4096` })
  const e = signer().sign({ content: 'after the oversize frame' })
  await putAll(await connectFor(t, url), e)
  t.same(await storedIds(url), [e.id], 'other connections are served, and the oversize frame stored nothing')
})

t.test('a frame over twice the hard limit is cut by uWS without a close frame (1006)', async t => {
  const { url } = await startTestRelay(t, { 'limits.max_message_length': 4096 })
  t.equal((await sendFrame(url, 3 * MiB)).code, 1006)
})
