// A hostile upstream for mirroring, on loopback: a bare WebSocket server that answers every REQ with a flood of
// EVENT frames (the events it was given, in order, over and over until `perReq` are sent), garbage frames mixed in,
// then EOSE. It never ends a flood early on its own: only the mirroring relay cutting the connection stops it. The
// flood test (test/relay/mirror-bounds.test.ts) and the mirror-flood bench scenario use it.
import { WebSocketServer, type WebSocket } from 'ws'
import type { NostrEvent } from '../nips/nip01.js'

export type FloodOptions = {
  /** Events to send, cycled through. */
  readonly events: readonly NostrEvent[]
  /** EVENT frames per REQ. */
  readonly perReq: number
  /** Frames sent as they are (not JSON, bad events...), one after every `garbageEvery` events. */
  readonly garbage?: readonly string[]
  readonly garbageEvery?: number
}

export type FloodUpstream = {
  readonly url: string
  /** Connections accepted so far. */
  connects(): number
  /** EVENT and garbage frames handed to sockets so far. */
  sent(): number
  close(): Promise<void>
}

// Frames queued per turn of the event loop, so the socket's close is noticed between turns.
const CHUNK = 200

export function startFloodUpstream(o: FloodOptions): Promise<FloodUpstream> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  let connects = 0
  let sent = 0
  const flood = (ws: WebSocket, sub: string) => {
    let i = 0
    const turn = () => {
      for (let n = 0; n < CHUNK && i < o.perReq; n++, i++) {
        if (ws.readyState !== ws.OPEN) return
        ws.send(JSON.stringify(['EVENT', sub, o.events[i % o.events.length]]))
        sent++
        const g = o.garbage
        if (g && g.length > 0 && (i + 1) % (o.garbageEvery ?? 1) === 0) {
          ws.send(g[((i + 1) / (o.garbageEvery ?? 1)) % g.length]!)
          sent++
        }
      }
      if (i < o.perReq) setImmediate(turn)
      else if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(['EOSE', sub]))
    }
    turn()
  }
  wss.on('connection', ws => {
    connects++
    ws.on('message', data => {
      let m: unknown
      try {
        m = JSON.parse(String(data))
      } catch {
        return
      }
      if (Array.isArray(m) && m[0] === 'REQ' && typeof m[1] === 'string') flood(ws, m[1])
    })
  })
  return new Promise((resolve, reject) => {
    wss.once('error', reject)
    wss.once('listening', () => {
      const { port } = wss.address() as { port: number }
      resolve({
        url: `ws://127.0.0.1:${port}`,
        connects: () => connects,
        sent: () => sent,
        close: () =>
          new Promise<void>(done => {
            for (const c of wss.clients) c.terminate()
            wss.close(() => done())
          }),
      })
    })
  })
}
