// Owns the uWS app and its sockets: WebSocket, NIP-11 and NIP-86 management on one port, the landing page, /skill.md,
// /health.
// Each connection's messages are chained, so they are handled in arrival order.
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import uWS from 'uWebSockets.js'
import { formatRejection, reject } from '../nips/nip01.js'
import type { Conn } from './connection.js'
import type { ManageReply, ManageRequest } from './management/http.js'
import type { RelayCtx } from './protocol/context.js'
import { dispatch } from './protocol/dispatch.js'
import { notice } from './protocol/refuse.js'
import { endSessions } from './protocol/negentropy.js'
import { authFrame } from './protocol/replies.js'
import { PAGE_POLICY } from './web-page.js'

export type ServerOptions = {
  readonly host: string
  readonly port: number
  /**
   * Largest frame that gets a protocol reply (NOTICE or OK false). Frames up to twice that are read and the
   * socket closed with 1009 and a reason; larger ones uWS cuts on their header, before reading them, without a
   * close frame (the client sees 1006).
   */
  readonly maxFrame: number
  readonly maxOutboundBytes: number
  /** The NIP-11 document for a request's Host header, built per request so it follows the effective config. */
  readonly info: (host: string) => Record<string, unknown>
  /** The /skill.md document for a request's Host header, built per request likewise. */
  readonly skill: (host: string) => string
  /** The market page for a browser (relay/web-page.ts), and its bundled script when the build made one. */
  readonly page: (host: string) => string
  readonly pageScript?: string
  /** Answers a management request (NIP-86: a POST to the relay's URL). */
  readonly manage: (req: ManageRequest) => Promise<ManageReply>
  /** True for an address whose connections the operator blocked (NIP-86 blockip). */
  readonly ipBlocked: (ip: string) => boolean
  /** Prometheus metrics served at /metrics on this port, when on and not on a port of their own. */
  readonly metrics?: { readonly contentType: string; text(): Promise<string> }
}

type UserData = { conn?: Conn; ip: string; host: string; outbox: string[] }

// The page's policy, and no caching of a page and script that change with the build and the config.
const PAGE_HEADERS: [string, string][] = [
  ['Content-Security-Policy', PAGE_POLICY],
  ['X-Content-Type-Options', 'nosniff'],
  ['Cache-Control', 'no-cache'],
]

const CORS: [string, string][] = [
  ['Access-Control-Allow-Origin', '*'],
  // A wildcard does not cover Authorization: browsers need it named for NIP-86 calls.
  ['Access-Control-Allow-Headers', '*, Authorization'],
  ['Access-Control-Allow-Methods', 'GET, POST, OPTIONS'],
]
const utf8 = new TextDecoder('utf-8', { fatal: true })
// A management request is a method name and a few parameters.
const MAX_MANAGE_BODY = 65536
const BLOCKED = 'blocked: connections from this address are refused'

type ListenCb = (token: uWS.us_listen_socket | false) => void
/**
 * Listens on host and port with SO_REUSEPORT off, so that a second relay on the port fails instead of sharing
 * it. uWS 20.30 takes the option after host and port (LIBUS_LISTEN_EXCLUSIVE_PORT = 1); its typings lack both.
 */
const listenExclusive = (app: uWS.TemplatedApp, host: string, port: number, cb: ListenCb) =>
  (app.listen as unknown as (h: string, p: number, options: 1, cb: ListenCb) => void).call(app, host, port, 1, cb)

/** uWS only says that it could not listen; the same bind from Node says why. */
function listenError(host: string, port: number): Promise<Error> {
  return new Promise(resolve => {
    const probe = createServer()
    const why = (err: NodeJS.ErrnoException) =>
      err.code === 'EADDRINUSE' ? 'the port is already in use (another relay?)' : err.message
    probe.once('error', (err: NodeJS.ErrnoException) =>
      resolve(new Error(`cannot listen on ${host}:${port}: ${why(err)}`)),
    )
    probe.listen({ host, port, exclusive: true }, () =>
      probe.close(() => resolve(new Error(`cannot listen on ${host}:${port}`))),
    )
  })
}

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

  const respond = (
    res: uWS.HttpResponse,
    status: string,
    type: string,
    body: string,
    cors = false,
    headers: readonly [string, string][] = [],
  ): void => {
    res.cork(() => {
      res.writeStatus(status).writeHeader('Content-Type', type)
      if (cors) for (const [k, v] of CORS) res.writeHeader(k, v)
      for (const [k, v] of headers) res.writeHeader(k, v)
      res.end(body)
    })
  }

  app.ws<UserData>('/', {
    maxPayloadLength: 2 * opts.maxFrame,
    maxBackpressure: opts.maxOutboundBytes,
    closeOnBackpressureLimit: 1,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    upgrade: (res, req, ctx) => {
      // Behind a reverse proxy every socket comes from the proxy; the address it appends last is the client's.
      const header = rc.snapshot().cfg.relay.real_ip_header.toLowerCase()
      const forwarded = header ? req.getHeader(header).split(',').at(-1)!.trim() : ''
      const ip = forwarded || Buffer.from(res.getRemoteAddressAsText()).toString()
      if (opts.ipBlocked(ip)) return respond(res, '403 Forbidden', 'text/plain', BLOCKED)
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
        negs: new Map(),
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
      if (bytes > opts.maxFrame)
        return ws.end(1009, `message too big: ${bytes} bytes, limit ${rc.snapshot().cfg.limits.max_message_length}`)
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
      endSessions(rc, conn)
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
      return respond(res, '200 OK', 'application/nostr+json', JSON.stringify(opts.info(req.getHeader('host'))), true)
    respond(res, '200 OK', 'text/html; charset=utf-8', opts.page(req.getHeader('host')), false, PAGE_HEADERS)
  })
  const script = opts.pageScript
  if (script !== undefined)
    app.get('/app.js', res => respond(res, '200 OK', 'text/javascript; charset=utf-8', script, false, PAGE_HEADERS))
  // The same document at both paths: /skill.md where agents look first, and beside NIP-05's well-known files.
  const skill = (res: uWS.HttpResponse, req: uWS.HttpRequest) =>
    respond(res, '200 OK', 'text/markdown; charset=utf-8', opts.skill(req.getHeader('host')), true)
  app.get('/skill.md', skill)
  app.get('/.well-known/nostr/skill.md', skill)
  app.post('/', (res, req) => {
    // The request is only readable in this callback; the body arrives after it, in chunks.
    const head = {
      contentType: req.getHeader('content-type'),
      authorization: req.getHeader('authorization'),
      host: req.getHeader('host'),
    }
    let aborted = false
    res.onAborted(() => (aborted = true))
    const chunks: Buffer[] = []
    let size = 0
    res.onData((chunk, last) => {
      if (aborted || size > MAX_MANAGE_BODY) return
      size += chunk.byteLength
      if (size > MAX_MANAGE_BODY) {
        aborted = true
        return res.cork(() => res.writeStatus('413 Payload Too Large').end('request body too large', true))
      }
      chunks.push(Buffer.from(new Uint8Array(chunk))) // copies: the chunk is only valid during this callback
      if (!last) return
      void opts.manage({ ...head, body: Buffer.concat(chunks) }).then(r => {
        if (!aborted) respond(res, r.status, 'application/json', r.body, true)
      })
    })
  })
  app.any('/*', res => respond(res, '404 Not Found', 'text/plain', 'not found'))

  /** Closes the open connections from addresses the operator has since blocked. */
  const dropBlocked = () => {
    for (const ws of [...conns]) {
      const conn = ws.getUserData().conn!
      if (!opts.ipBlocked(conn.ip)) continue
      conn.closed = true
      ws.end(1008, BLOCKED)
    }
  }

  return new Promise<{ port: number; connections: () => number; close: () => void; dropBlocked: () => void }>(
    (resolve, fail) => {
      listenExclusive(app, opts.host, opts.port, token => {
        if (!token) return void listenError(opts.host, opts.port).then(fail)
        resolve({
          port: uWS.us_socket_local_port(token),
          connections: () => conns.size,
          dropBlocked,
          close: () => {
            uWS.us_listen_socket_close(token)
            flush()
            for (const ws of [...conns]) ws.end(1001, 'relay shutting down')
          },
        })
      })
    },
  )
}
