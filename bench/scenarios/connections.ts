// connections: K idle connections with one live subscription each; reports the server's RSS growth per
// connection. Both processes need K file descriptors: K is capped below `ulimit -n` (see bench/README.md).
import { execFileSync } from 'node:child_process'
import { closeAll, connect, text, type WebSocket } from '../client.js'
import { rng } from '../random.js'
import { MB, type Ctx, type Outcome } from '../scenario.js'
import { median, round, table } from '../stats.js'
import { rssBytes } from '../target.js'

export type ConnectionsOptions = { connections: number }

/** File descriptors left for sockets: `ulimit -n` minus room for the databases, pipes and the runtime. */
export function socketBudget(): number {
  try {
    const limit = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()
    return limit === 'unlimited' ? Infinity : Number(limit) - 200
  } catch {
    return 1000
  }
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

/** Median of five RSS readings over one second (the heap moves a little between readings). */
async function steadyRss(pid: number | undefined): Promise<number> {
  if (pid === undefined) return NaN
  const xs: number[] = []
  for (let i = 0; i < 5; i++) {
    if (i) await sleep(250)
    xs.push(rssBytes(pid))
  }
  return median(xs)
}

/** Opens a connection, subscribes once and waits for EOSE; a refusal or a close rejects. */
async function subscribed(url: string, filter: unknown, timeoutMs: number): Promise<WebSocket> {
  const ws = await connect(url)
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('no EOSE')), timeoutMs)
    const fail = (err: Error) => {
      clearTimeout(timer)
      ws.terminate()
      reject(err)
    }
    ws.on('message', (data: WebSocket.RawData) => {
      const s = text(data, 12)
      if (s.startsWith('["EOSE"')) {
        clearTimeout(timer)
        resolve()
      } else if (s.startsWith('["CLOSED"')) fail(new Error(`subscription refused: ${text(data)}`))
    })
    ws.once('close', code => fail(new Error(`closed by the relay (code ${code})`)))
    ws.send(JSON.stringify(['REQ', 'live', filter]))
  })
  ws.removeAllListeners('close')
  return ws
}

export async function connections(ctx: Ctx, o: ConnectionsOptions): Promise<Outcome> {
  const budget = socketBudget()
  const k = Math.min(o.connections, budget)
  if (k < o.connections)
    ctx.log(`ulimit -n allows ${budget + 200} descriptors: opening ${k} connections, not ${o.connections}`)
  const r = rng(ctx.seed)
  const target = await ctx.relay()
  const sockets: WebSocket[] = []
  let failed = 0
  let firstError: string | undefined
  let before = NaN
  let after = NaN
  let openSeconds = 0
  try {
    await sleep(500)
    before = await steadyRss(target.pid)
    const t0 = performance.now()
    let next = 0
    const worker = async () => {
      while (next < k) {
        next++
        // Each subscription waits for its own stranger to be tagged: one index entry per connection.
        const filter = { kinds: [1, 7000], '#p': [r.hex(32)], limit: 0 }
        try {
          sockets.push(await subscribed(target.url, filter, ctx.timeoutMs))
        } catch (err) {
          failed++
          firstError ??= (err as Error).message
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(100, k) }, worker))
    openSeconds = (performance.now() - t0) / 1000
    ctx.log(`${sockets.length} connections open and subscribed in ${openSeconds.toFixed(1)} s (${failed} failed)`)
    await sleep(1000)
    after = await steadyRss(target.pid)
  } finally {
    await closeAll(sockets, 10_000)
    await target.close()
  }
  const perConnKb = (after - before) / sockets.length / 1024
  const results = {
    requested: o.connections,
    attempted: k,
    opened: sockets.length,
    failed,
    ...(firstError !== undefined ? { firstError } : {}),
    openSeconds: round(openSeconds),
    connectionsPerSec: round(sockets.length / openSeconds),
    serverRssBeforeMb: round(before / MB),
    serverRssAfterMb: round(after / MB),
    serverRssPerConnectionKb: round(perConnKb),
  }
  return {
    results,
    table: table(
      ['connections', 'opened', 'failed', 'open s', 'RSS before MB', 'RSS after MB', 'RSS per conn KB'],
      [
        [
          String(k),
          results.opened,
          failed,
          results.openSeconds,
          results.serverRssBeforeMb,
          results.serverRssAfterMb,
          results.serverRssPerConnectionKb,
        ],
      ],
    ),
  }
}
