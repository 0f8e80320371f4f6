// The load generator's side of the wire: plain `ws` sockets, pre-serialised frames, minimal reply parsing.
import WebSocket from 'ws'

export { WebSocket }

const WS_OPTIONS = { perMessageDeflate: false, skipUTF8Validation: true, handshakeTimeout: 10_000 }

/** Opens one connection and waits until it is open. */
export function connect(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, WS_OPTIONS)
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.removeAllListeners('error')
      ws.on('error', () => {}) // errors end in 'close', which the scenarios watch
      resolve(ws)
    })
    ws.once('error', reject)
  })
}

/** Opens `count` connections, at most `parallel` handshakes at a time; failures are counted, not thrown. */
export async function connectMany(
  url: string,
  count: number,
  parallel = 100,
): Promise<{ sockets: WebSocket[]; failed: number; firstError?: string }> {
  const sockets: WebSocket[] = []
  let failed = 0
  let firstError: string | undefined
  let next = 0
  const worker = async () => {
    while (next < count) {
      next++
      try {
        sockets.push(await connect(url))
      } catch (err) {
        failed++
        firstError ??= (err as Error).message
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker))
  return { sockets, failed, firstError }
}

/** Closes sockets and waits (bounded) for them to close. */
export async function closeAll(sockets: readonly WebSocket[], timeoutMs = 5000): Promise<void> {
  await Promise.all(
    sockets.map(
      ws =>
        new Promise<void>(resolve => {
          if (ws.readyState === WebSocket.CLOSED) return resolve()
          const timer = setTimeout(() => {
            ws.terminate()
            resolve()
          }, timeoutMs)
          ws.once('close', () => {
            clearTimeout(timer)
            resolve()
          })
          ws.close()
        }),
    ),
  )
}

/** Text of a received message (`ws` hands out Buffers); `end` limits decoding to a prefix. */
export const text = (data: WebSocket.RawData, end?: number): string =>
  Buffer.isBuffer(data)
    ? data.toString('utf8', 0, end)
    : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8', 0, end)

export type Ok = { id: string; accepted: boolean; duplicate: boolean; message: string }

// agora's accepted reply is exactly ["OK","<64 hex>",true,""] (81 characters); anything else is parsed.
const OK_ACCEPTED_LENGTH = 81

/** An OK frame, or undefined for any other frame. */
export function parseOk(s: string): Ok | undefined {
  if (!s.startsWith('["OK"')) return undefined
  if (s.length === OK_ACCEPTED_LENGTH && s.startsWith('["OK","') && s.endsWith('",true,""]'))
    return { id: s.slice(7, 71), accepted: true, duplicate: false, message: '' }
  const m = JSON.parse(s) as unknown[]
  const message = typeof m[3] === 'string' ? m[3] : ''
  const duplicate = m[2] === true && message.startsWith('duplicate:')
  return { id: String(m[1]), accepted: m[2] === true && !duplicate, duplicate, message }
}

/**
 * Subscription id and event id of an EVENT frame, from its first bytes when the event starts with "id"
 * (agora and most relays); undefined when the frame is not an EVENT or needs a full parse (`full` is then called).
 */
export function eventIds(prefix: string, full: () => string): { subId: string; id: string } | undefined {
  if (!prefix.startsWith('["EVENT"')) return undefined
  if (prefix.startsWith('["EVENT","')) {
    const q = prefix.indexOf('"', 10)
    if (q > 0 && prefix.startsWith(',{"id":"', q + 1) && prefix.length >= q + 73)
      return { subId: prefix.slice(10, q), id: prefix.slice(q + 9, q + 73) }
  }
  const m = JSON.parse(full()) as [string, string, { id: string }]
  return { subId: m[1], id: m[2].id }
}

/** Frame prefix long enough for eventIds: verb, a subscription id of up to 64 characters and the event id. */
export const EVENT_PREFIX_BYTES = 160

export type PublishReport = {
  readonly sent: number
  readonly accepted: number
  readonly duplicates: number
  readonly refused: number
  /** The first refusal's message, to say why. */
  readonly firstRefusal: string | undefined
  /** Milliseconds from each EVENT to its OK, for the first `count` entries. */
  readonly latencies: Float64Array
  /** performance.now() of the first send and of the last OK. */
  readonly startMs: number
  readonly endMs: number
}

/**
 * Publishes pre-built EVENT frames over the sockets, event i on socket i % sockets, keeping at most `window`
 * unanswered per socket, until every event has its OK. `onSend` sees each send time (for fan-out latency).
 * Rejects after `timeoutMs`, or when a socket closes, saying how far it got.
 */
export function publishAll(
  sockets: readonly WebSocket[],
  frames: readonly string[],
  ids: readonly string[],
  window: number,
  timeoutMs: number,
  onSend?: (i: number, atMs: number) => void,
): Promise<PublishReport> {
  const n = frames.length
  const index = new Map<string, number>()
  ids.forEach((id, i) => index.set(id, i))
  const sentAt = new Float64Array(n)
  const latencies = new Float64Array(n)
  let oks = 0
  let accepted = 0
  let duplicates = 0
  let refused = 0
  let firstRefusal: string | undefined
  let sent = 0
  const startMs = performance.now()
  let endMs = startMs
  const cleanups: (() => void)[] = []

  return new Promise<PublishReport>((resolve, reject) => {
    let finished = false
    const finish = (err?: Error) => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      cleanups.forEach(c => c())
      if (err) return reject(err)
      resolve({ sent, accepted, duplicates, refused, firstRefusal, latencies, startMs, endMs })
    }
    const timer = setTimeout(
      () => finish(new Error(`publishing timed out after ${timeoutMs / 1000} s: ${oks} of ${n} events answered`)),
      timeoutMs,
    )
    if (n === 0) return finish()
    sockets.forEach((ws, c) => {
      let nextIdx = c // this socket sends events c, c + C, c + 2C...
      let inFlight = 0
      const step = sockets.length
      const pump = () => {
        while (inFlight < window && nextIdx < n) {
          const i = nextIdx
          nextIdx += step
          inFlight++
          sent++
          const t = performance.now()
          sentAt[i] = t
          onSend?.(i, t)
          ws.send(frames[i]!)
        }
      }
      const onMessage = (data: WebSocket.RawData) => {
        const ok = parseOk(text(data))
        if (!ok) return
        const i = index.get(ok.id)
        if (i === undefined) return
        const now = performance.now()
        latencies[oks++] = now - sentAt[i]!
        endMs = now
        if (ok.accepted) accepted++
        else if (ok.duplicate) duplicates++
        else {
          refused++
          firstRefusal ??= ok.message
        }
        inFlight--
        if (oks === n) return finish()
        pump()
      }
      const onClose = (code: number) => finish(new Error(`the relay closed a publishing connection (code ${code})`))
      ws.on('message', onMessage)
      ws.once('close', onClose)
      cleanups.push(() => {
        ws.off('message', onMessage)
        ws.off('close', onClose)
      })
      pump()
    })
  })
}

/** `["EVENT",<line>]` for each corpus line: built once, sent as is. */
export const eventFrames = (lines: readonly string[]) => lines.map(l => `["EVENT",${l}]`)

let countSeq = 0

/** Sends one COUNT (NIP-45) and waits for its answer: the count and ms taken, or the CLOSED reason. */
export function countEvents(ws: WebSocket, filter: unknown, timeoutMs: number) {
  const id = `count${++countSeq}`
  return new Promise<{ ms: number; count: number; closed?: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no COUNT answer in ${timeoutMs} ms`)), timeoutMs)
    const onMessage = (data: WebSocket.RawData) => {
      const m = JSON.parse(text(data)) as unknown[]
      if (m[1] !== id || (m[0] !== 'COUNT' && m[0] !== 'CLOSED')) return
      clearTimeout(timer)
      ws.off('message', onMessage)
      const ms = performance.now() - t0
      if (m[0] === 'CLOSED') resolve({ ms, count: NaN, closed: String(m[2]) })
      else resolve({ ms, count: Number((m[2] as { count?: unknown } | undefined)?.count) })
    }
    ws.on('message', onMessage)
    const t0 = performance.now()
    ws.send(JSON.stringify(['COUNT', id, filter]))
  })
}

let subSeq = 0

/** Sends one REQ of `filters`, counts EVENTs until EOSE or CLOSED, closes the subscription; returns ms and the count. */
export function timeQuery(ws: WebSocket, filters: readonly unknown[], timeoutMs: number) {
  const sub = `q${++subSeq}`
  const ev = `["EVENT","${sub}",`
  const eose = `["EOSE","${sub}"`
  const closed = `["CLOSED","${sub}"`
  return new Promise<{ ms: number; events: number; closed?: string }>((resolve, reject) => {
    let events = 0
    const done = (value: { ms: number; events: number; closed?: string } | Error) => {
      clearTimeout(timer)
      ws.off('message', onMessage)
      if (value instanceof Error) return reject(value)
      ws.send(JSON.stringify(['CLOSE', sub]))
      resolve(value)
    }
    const timer = setTimeout(
      () => done(new Error(`no EOSE for ${JSON.stringify(filters)} in ${timeoutMs} ms`)),
      timeoutMs,
    )
    const onMessage = (data: WebSocket.RawData) => {
      const s = text(data, 16 + sub.length)
      if (s.startsWith(ev)) events++
      else if (s.startsWith(eose)) done({ ms: performance.now() - t0, events })
      else if (s.startsWith(closed)) done({ ms: performance.now() - t0, events, closed: text(data) })
      else if (/^\["(EVENT|EOSE|CLOSED)"\s*,/.test(s)) {
        // Another relay's spelling (spaces after commas): parse it.
        const m = JSON.parse(text(data)) as unknown[]
        if (m[1] !== sub) return
        if (m[0] === 'EVENT') events++
        else done({ ms: performance.now() - t0, events, ...(m[0] === 'CLOSED' ? { closed: String(m[2]) } : {}) })
      }
    }
    ws.on('message', onMessage)
    const t0 = performance.now()
    ws.send(JSON.stringify(['REQ', sub, ...filters]))
  })
}
