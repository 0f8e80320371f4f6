// A raw WebSocket client for protocol tests: send any frame, wait for the reply that matches.
import WebSocket from 'ws'

export type Frame = [string, ...unknown[]]

export type RawClient = {
  readonly ws: WebSocket
  /** Sends a frame (arrays are JSON-encoded, strings and buffers go as they are). */
  send(msg: unknown[] | string | Buffer, binary?: boolean): void
  /** Waits for the first unconsumed frame matching `pred`, consuming it. */
  expect(pred: (m: Frame) => boolean, timeoutMs?: number): Promise<Frame>
  /** Waits for the OK of an event id. */
  ok(id: string): Promise<Frame>
  /** Publishes an event and returns its OK frame. */
  publish(e: { id: string }): Promise<Frame>
  /** Sends a REQ and collects stored events until EOSE, or returns the CLOSED frame. */
  req(subId: string, ...filters: unknown[]): Promise<{ events: { id: string; [k: string]: unknown }[]; closed?: Frame }>
  /** Frames received and not yet consumed. */
  pending(): Frame[]
  /** Resolves with the close code once the server closes the socket. */
  readonly closed: Promise<number>
  close(): void
}

/** Opens a connection and waits until it is open. */
export async function rawClient(url: string): Promise<RawClient> {
  const ws = new WebSocket(url)
  const inbox: Frame[] = []
  const waiters = new Set<() => void>()
  ws.on('message', data => {
    inbox.push(JSON.parse(data.toString()) as Frame)
    for (const w of [...waiters]) w()
  })
  const closed = new Promise<number>(resolve => ws.on('close', code => resolve(code)))
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })

  const expect = (pred: (m: Frame) => boolean, timeoutMs = 60_000) =>
    new Promise<Frame>((resolve, reject) => {
      const check = () => {
        const i = inbox.findIndex(pred)
        if (i < 0) return false
        const [m] = inbox.splice(i, 1)
        waiters.delete(check)
        clearTimeout(timer)
        resolve(m!)
        return true
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`timed out waiting for a frame; pending: ${JSON.stringify(inbox).slice(0, 500)}`))
      }, timeoutMs)
      if (!check()) waiters.add(check)
    })

  const client: RawClient = {
    ws,
    send: (msg, binary = false) => ws.send(Array.isArray(msg) ? JSON.stringify(msg) : msg, { binary }),
    expect,
    ok: id => expect(m => m[0] === 'OK' && m[1] === id),
    publish: e => {
      client.send(['EVENT', e])
      return client.ok(e.id)
    },
    async req(subId, ...filters) {
      client.send(['REQ', subId, ...filters])
      const events: { id: string }[] = []
      for (;;) {
        const m = await expect(m => (m[0] === 'EVENT' || m[0] === 'EOSE' || m[0] === 'CLOSED') && m[1] === subId)
        if (m[0] === 'EVENT') events.push(m[2] as { id: string })
        else return m[0] === 'CLOSED' ? { events, closed: m } : { events }
      }
    },
    pending: () => [...inbox],
    closed,
    close: () => ws.close(),
  }
  return client
}

/** What a tap test offers for cleanup. */
export type Teardown = { teardown(fn: () => unknown): void }

/** Opens a client that is closed at the test's teardown. */
export async function connectFor(t: Teardown, url: string): Promise<RawClient> {
  const c = await rawClient(url)
  t.teardown(() => c.close())
  return c
}

/** Publishes events in order; a refusal during setup throws, so the test fails loudly. */
export async function putAll(c: RawClient, ...events: { id: string }[]): Promise<void> {
  for (const e of events) {
    const ok = await c.publish(e)
    if (ok[2] !== true) throw new Error(`setup event refused: ${JSON.stringify(ok)}`)
  }
}

let querySeq = 0

/** Ids of the stored events a REQ returns, in the order sent; a CLOSED throws. */
export async function queryIds(c: RawClient, ...filters: unknown[]): Promise<string[]> {
  const r = await c.req(`q-${++querySeq}`, ...filters)
  if (r.closed) throw new Error(`REQ refused: ${JSON.stringify(r.closed)}`)
  return r.events.map(e => e.id)
}
