// mirror-flood: what a flooding upstream costs a mirroring relay's own clients. One local client makes `-k` round
// trips, one at a time, alternating an EVENT (-> OK) and a REQ by that id (-> EOSE): first on an agora that mirrors
// nothing, then on one that mirrors a hostile upstream (bench/flood-upstream.ts) which answers each REQ with ten times
// the mirror's budget of valid, signed reports (distinct ones cycled), a garbage frame after every hundred. The
// relay takes the budget, cuts the upstream off and tries it again after a doubling backoff.
import { bulkSigner } from '../bulk-sign.js'
import { closeAll, connect, countEvents, parseOk, text, timeQuery, type WebSocket } from '../client.js'
import { startFloodUpstream, type FloodUpstream } from '../flood-upstream.js'
import type { Ctx, Outcome } from '../scenario.js'
import { percentile, round, table } from '../stats.js'

export type MirrorFloodOptions = { requests: number; budget: number }

// Distinct events the upstream cycles through: signing ten times a large budget would take longer than the run.
const DISTINCT = 20_000

/** Sends one EVENT frame and resolves with the ms until its OK. */
function timePublish(ws: WebSocket, id: string, frame: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no OK for ${id} in ${timeoutMs} ms`)), timeoutMs)
    const onMessage = (data: WebSocket.RawData) => {
      const ok = parseOk(text(data))
      if (ok?.id !== id) return
      clearTimeout(timer)
      ws.off('message', onMessage)
      if (!ok.accepted) return reject(new Error(`local event refused: ${ok.message}`))
      resolve(performance.now() - t0)
    }
    ws.on('message', onMessage)
    const t0 = performance.now()
    ws.send(frame)
  })
}

type Phase = { p50Ms: number; p99Ms: number; maxMs: number; seconds: number }

/** `requests` round trips of a local client, one at a time; latencies of both verbs together. */
async function localClient(url: string, requests: number, timeoutMs: number): Promise<Phase> {
  const signer = bulkSigner()
  const now = Math.floor(Date.now() / 1000)
  const events = signer.signAll(
    Array.from({ length: Math.ceil(requests / 2) }, (_, i) => ({
      kind: 1,
      created_at: now,
      tags: [],
      content: `${i}`,
    })),
  )
  const ws = await connect(url)
  const ms = new Float64Array(requests)
  const t0 = performance.now()
  try {
    for (let i = 0; i < requests; i++) {
      const e = events[i >> 1]!
      ms[i] =
        i % 2 === 0
          ? await timePublish(ws, e.id, JSON.stringify(['EVENT', e]), timeoutMs)
          : (await timeQuery(ws, [{ ids: [e.id] }], timeoutMs)).ms
    }
  } finally {
    await closeAll([ws])
  }
  return {
    p50Ms: round(percentile(ms, 50)),
    p99Ms: round(percentile(ms, 99)),
    maxMs: round(percentile(ms, 100)),
    seconds: round((performance.now() - t0) / 1000),
  }
}

export async function mirrorFlood(ctx: Ctx, o: MirrorFloodOptions): Promise<Outcome> {
  const reports = bulkSigner().signAll(
    Array.from({ length: Math.min(DISTINCT, 10 * o.budget) }, (_, i) => ({
      kind: 1984,
      created_at: Math.floor(Date.now() / 1000) - i,
      tags: [['p', 'a'.repeat(64), 'spam']],
      content: `flood ${i}`,
    })),
  )
  const calm = await ctx.relay()
  let quiet: Phase
  try {
    quiet = await localClient(calm.url, o.requests, ctx.timeoutMs)
  } finally {
    await calm.close()
  }
  ctx.log(`without a mirror: p99 ${quiet.p99Ms} ms`)

  let up: FloodUpstream | undefined
  let flooded: Phase
  let stored = NaN
  let sentDuring = 0
  let connects = 0
  try {
    up = await startFloodUpstream({
      events: reports,
      perReq: 10 * o.budget,
      garbage: ['not json'],
      garbageEvery: 100,
    })
    const mirror = JSON.stringify([{ url: up.url, events_per_minute: o.budget, catch_up_interval: 0 }])
    const target = await ctx.relay({ overrides: { mirror } })
    try {
      const before = up.sent()
      flooded = await localClient(target.url, o.requests, ctx.timeoutMs)
      sentDuring = up.sent() - before
      connects = up.connects()
      const ws = await connect(target.url)
      stored = (await countEvents(ws, { kinds: [1984] }, ctx.timeoutMs)).count
      await closeAll([ws])
    } finally {
      await target.close()
    }
  } finally {
    await up?.close()
  }
  ctx.log(`with a flooding upstream: p99 ${flooded.p99Ms} ms`)

  return {
    results: {
      budgetPerMinute: o.budget,
      withoutMirror: quiet,
      withFlood: { ...flooded, upstreamFramesSent: sentDuring, upstreamConnects: connects, mirroredStored: stored },
    },
    table: table(
      ['local client (EVENT -> OK, REQ -> EOSE)', 'p50 ms', 'p99 ms', 'max ms', 's', 'upstream frames', 'stored'],
      [
        ['no mirror', quiet.p50Ms, quiet.p99Ms, quiet.maxMs, quiet.seconds, undefined, undefined],
        [
          `flooding upstream (budget ${o.budget}/min)`,
          flooded.p50Ms,
          flooded.p99Ms,
          flooded.maxMs,
          flooded.seconds,
          sentDuring,
          stored,
        ],
      ],
    ),
  }
}
