// Test-only LNURL-pay server on loopback (LUD-06, LUD-16, NIP-57 fields): answers
// /.well-known/lnurlp/<name> for configured users with its own nostr key as receipt signer, counts requests
// per path, and can be told per name to hang, fail or send a broken answer. A caller may answer the names'
// callbacks (`/lnurlp/<name>/callback`), as the zap server fixture (test/fixtures/lightning/lnurl-zap.ts) does.
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { makeZap, type Zap, type ZapOptions } from './zaps.js'

/** How the server answers for one name. */
export type LnurlUser = {
  /** The answer's allowsNostr; true by default, null leaves it out. */
  readonly allowsNostr?: boolean | string | null
  /** The answer's nostrPubkey; the server's pubkey by default, null leaves it out. */
  readonly nostrPubkey?: string | null
  /** Fields merged over the answer (another tag, `status: 'ERROR'`...). */
  readonly extra?: Record<string, unknown>
  /** HTTP status; 200 by default. */
  readonly status?: number
  /** Raw body sent instead of the JSON answer. */
  readonly body?: string
  /** Never answer; the connection stays open until close(). */
  readonly hang?: boolean
}

/** Answers a configured name's LNURL-pay callback (its query: `amount`, `nostr`...) with an HTTP status and JSON. */
export type LnurlCallback = (name: string, query: URLSearchParams) => Promise<{ status: number; body: unknown }>

export type LnurlServer = {
  /** Base URL, `http://127.0.0.1:<port>`. */
  readonly url: string
  /** The server's nostr secret key: signs its zap receipts. */
  readonly sk: Uint8Array
  /** The pubkey it declares as nostrPubkey. */
  readonly pubkey: string
  /** The lightning address of name on this server: `name@127.0.0.1:<port>`. */
  address(name: string): string
  /** Adds, changes or (without user) removes a name. */
  setUser(name: string, user?: LnurlUser): void
  /** Requests received for name's well-known path, or for any path without a name. */
  hits(name?: string): number
  /** makeZap with this server's key as the receipt signer. */
  zapFor(o: Omit<ZapOptions, 'lnurlSk'>): Zap
  close(): Promise<void>
}

const PREFIX = '/.well-known/lnurlp/'
const CALLBACK = /^\/lnurlp\/([^/]+)\/callback$/

const send = (res: ServerResponse, status: number, body: string) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(body)

/**
 * Starts the server on 127.0.0.1, port 0, with the given users (name -> options; {} for a well-behaved one); a
 * callback, when given, answers their callback URLs (otherwise those are 404s).
 */
export async function startLnurlServer(
  users: Record<string, LnurlUser> = {},
  o: { callback?: LnurlCallback } = {},
): Promise<LnurlServer> {
  const sk = generateSecretKey()
  const pubkey = getPublicKey(sk)
  const table = new Map(Object.entries(users))
  const counts = new Map<string, number>()
  const server = createServer((req, res) => {
    const [path = '/', query = ''] = (req.url ?? '/').split('?')
    counts.set(path, (counts.get(path) ?? 0) + 1)
    const callback = CALLBACK.exec(path)?.[1]
    if (callback !== undefined && o.callback && table.has(callback))
      return void o.callback(callback, new URLSearchParams(query)).then(
        r => send(res, r.status, JSON.stringify(r.body)),
        (err: unknown) => send(res, 500, JSON.stringify({ status: 'ERROR', reason: String(err) })),
      )
    const name = path.startsWith(PREFIX) ? path.slice(PREFIX.length) : ''
    const user = table.get(name)
    if (!user) return send(res, 404, JSON.stringify({ status: 'ERROR', reason: `no user ${name}` }))
    if (user.hang) return
    send(res, user.status ?? 200, user.body ?? JSON.stringify(payRequest(name, user)))
  })
  // Clients keep sockets alive about 4 s; a server closing its idle ones at 5 s races them on a loaded machine
  // (ECONNRESET on a reused socket). Close() ends them all anyway.
  server.keepAliveTimeout = 120_000
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  const url = `http://${host}`
  const address = (name: string) => `${name}@${host}`

  function payRequest(name: string, user: LnurlUser) {
    return {
      tag: 'payRequest',
      callback: `${url}/lnurlp/${name}/callback`,
      minSendable: 1_000,
      maxSendable: 100_000_000_000,
      metadata: JSON.stringify([
        ['text/plain', `zaps for ${name}`],
        ['text/identifier', address(name)],
      ]),
      ...(user.allowsNostr === null ? {} : { allowsNostr: user.allowsNostr ?? true }),
      ...(user.nostrPubkey === null ? {} : { nostrPubkey: user.nostrPubkey ?? pubkey }),
      ...user.extra,
    }
  }

  return {
    url,
    sk,
    pubkey,
    address,
    setUser: (name, user) => (user ? table.set(name, user) : table.delete(name)),
    hits: name =>
      name === undefined ? [...counts.values()].reduce((a, b) => a + b, 0) : (counts.get(PREFIX + name) ?? 0),
    zapFor: o => makeZap({ ...o, lnurlSk: sk }),
    close: () =>
      new Promise<void>(resolve => {
        server.close(() => resolve())
        server.closeAllConnections() // hanging requests and keep-alive sockets would hold close() open
      }),
  }
}
