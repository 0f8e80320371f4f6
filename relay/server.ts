// Owns the uWS app and its sockets: WebSocket and NIP-11 on one port, the landing page, /health.
// Each connection's messages are chained, so they are handled in arrival order.
import { randomBytes } from 'node:crypto'
import uWS from 'uWebSockets.js'
import { formatRejection, reject } from '../nips/nip01.js'
import type { Conn } from './connection.js'
import type { RelayCtx } from './protocol/context.js'
import { dispatch } from './protocol/dispatch.js'
import { notice } from './protocol/refuse.js'
import { authFrame } from './protocol/replies.js'

export type ServerOptions = {
  readonly host: string
  readonly port: number
  /** Largest frame uWS accepts before closing the socket; frames up to it get a protocol reply. */
  readonly maxFrame: number
  readonly maxOutboundBytes: number
  /** The NIP-11 document, built per request so it follows the effective config. */
  readonly info: () => Record<string, unknown>
  readonly landing: () => string
  /** Prometheus metrics served at /metrics on this port, when on and not on a port of their own. */
  readonly metrics?: { readonly contentType: string; text(): Promise<string> }
}

type UserData = { conn?: Conn; ip: string; host: string; outbox: string[] }

const CORS: [string, string][] = [
  ['Access-Control-Allow-Origin', '*'],
  ['Access-Control-Allow-Headers', '*'],
  ['Access-Control-Allow-Methods', 'GET, OPTIONS'],
]
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Starts listening; resolves with the bound port and a close function that drains connections. */
export function startServer(rc: RelayCtx, opts: ServerOptions) {
  const conns = new Set<uWS.WebSocket<UserData>>()
  const perIp = new Map<string, number>()
  let nextId = 1
  const app = uWS.App()

  // Frames are queued per connection and written once per turn of the event loop, corked: one syscall
  // per connection for all the OKs and deliveries of a commit instead of one per frame.
  const dirty = new Set<uWS.WebSocket<UserData>>()
  let flushing = false
  const flush = () => {
    flushing = false
    for (const ws of dirty) {
      const data = ws.getUserData()
      const frames = data.outbox
      data.outbox = []
      ws.cork(() => {
        for (const frame of frames) {
          // uWS refuses a send that would pass maxBackpressure: a reader that stops reading is cut off
          // before it can grow our memory.
          if (ws.send(frame, false) === 2) {
            data.conn!.closed = true
            ws.end(1008, 'slow reader: too much unsent data')
            return
          }
        }
      })
    }
    dirty.clear()
  }

  const respond = (res: uWS.HttpResponse, status: string, type: string, body: string, cors = false): void => {
    res.cork(() => {
      res.writeStatus(status).writeHeader('Content-Type', type)
      if (cors) for (const [k, v] of CORS) res.writeHeader(k, v)
      res.end(body)
    })
  }

  app.ws<UserData>('/', {
    maxPayloadLength: opts.maxFrame,
    maxBackpressure: opts.maxOutboundBytes,
    closeOnBackpressureLimit: 1,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    upgrade: (res, req, ctx) => {
      // Behind a reverse proxy every socket comes from the proxy; the address it appends last is the client's.
      const header = rc.snapshot().cfg.relay.real_ip_header.toLowerCase()
      const forwarded = header ? req.getHeader(header).split(',').at(-1)!.trim() : ''
      const ip = forwarded || Buffer.from(res.getRemoteAddressAsText()).toString()
      const cap = rc.snapshot().policies.connectionsPerIp
      if (cap !== undefined && (perIp.get(ip) ?? 0) >= cap) {
        const r = reject('rate-limited', `over ${cap} connections from this address`)
        rc.observer.refused('http', r, ip)
        return respond(res, '429 Too Many Requests', 'text/plain', formatRejection(r))
      }
      res.upgrade<UserData>(
        { ip, host: req.getHeader('host'), outbox: [] },
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        ctx,
      )
    },
    open: ws => {
      const data = ws.getUserData()
      const conn: Conn = {
        id: nextId++,
        ip: data.ip,
        host: data.host,
        challenge: randomBytes(16).toString('hex'),
        authed: new Set(),
        subs: new Map(),
        closed: false,
        chain: Promise.resolve(),
        ingest: Promise.resolve(),
        replies: Promise.resolve(),
        observer: rc.observer,
        send: frame => {
          if (conn.closed) return
          if (data.outbox.length === 0) dirty.add(ws)
          data.outbox.push(frame)
          if (!flushing) {
            flushing = true
            setImmediate(flush)
          }
        },
      }
      data.conn = conn
      conns.add(ws)
      perIp.set(conn.ip, (perIp.get(conn.ip) ?? 0) + 1)
      conn.send(authFrame(conn.challenge))
    },
    message: (ws, message, isBinary) => {
      const conn = ws.getUserData().conn!
      const bytes = message.byteLength
      let text: string
      try {
        text = utf8.decode(message) // copies: the ArrayBuffer is only valid during this callback
      } catch {
        return notice(conn, reject('invalid', 'message is not valid UTF-8'))
      }
      if (isBinary) return notice(conn, reject('invalid', 'send Nostr messages as text frames'))
      conn.chain = conn.chain
        .then(() => dispatch(rc, conn, text, bytes))
        .catch(err => rc.log.error({ component: 'relay', err }, 'message chain error'))
    },
    close: ws => {
      const conn = ws.getUserData().conn!
      conn.closed = true
      dirty.delete(ws)
      conns.delete(ws)
      const left = (perIp.get(conn.ip) ?? 1) - 1
      if (left > 0) perIp.set(conn.ip, left)
      else perIp.delete(conn.ip)
      for (const sub of conn.subs.values()) rc.subs.remove(sub)
      conn.subs.clear()
    },
  })

  app.options('/*', res => respond(res, '204 No Content', 'text/plain', '', true))
  app.get('/health', res => respond(res, '200 OK', 'application/json', '{"status":"ok"}'))
  const metrics = opts.metrics
  if (metrics)
    app.get('/metrics', res => {
      let aborted = false
      res.onAborted(() => (aborted = true))
      metrics.text().then(
        body => aborted || respond(res, '200 OK', metrics.contentType, body),
        (err: Error) => aborted || respond(res, '500 Internal Server Error', 'text/plain', `error: ${err.message}`),
      )
    })
  app.get('/', (res, req) => {
    if (req.getHeader('accept').includes('application/nostr+json'))
      return respond(res, '200 OK', 'application/nostr+json', JSON.stringify(opts.info()), true)
    respond(res, '200 OK', 'text/html; charset=utf-8', opts.landing())
  })
  app.any('/*', res => respond(res, '404 Not Found', 'text/plain', 'not found'))

  return new Promise<{ port: number; connections: () => number; close: () => void }>((resolve, fail) => {
    app.listen(opts.host, opts.port, token => {
      if (!token) return fail(new Error(`cannot listen on ${opts.host}:${opts.port}`))
      resolve({
        port: uWS.us_socket_local_port(token),
        connections: () => conns.size,
        close: () => {
          uWS.us_listen_socket_close(token)
          flush()
          for (const ws of [...conns]) ws.end(1001, 'relay shutting down')
        },
      })
    })
  })
}
