// page: the market page at GET / in headless Chromium (Debian's package, driven by puppeteer-core), on a relay
// seeded over WebSocket with P providers and N job requests, a share of them answered so the market writes their
// 31118 ledger entries (bench/page-market.ts). Each of R runs loads the providers view and the jobs view, each in a
// fresh incognito context: ms from navigation start until the view shows its data, and where that time went (the
// page's WebSocket open, the subscription's EOSE, the rows in the DOM). The jobs view's list is then jumped to its
// middle and end (elements under #view: virtualised rows do not grow with the jobs) and scrolled for 2 s (frame
// intervals). Also the page's JS heap and the size of the script the relay serves.
import { existsSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import puppeteer, { type Browser, type Page } from 'puppeteer-core'
import { LEDGER } from '../../client/market.js'
import { fetchRelayInfo } from '../../client/nip11.js'
import type { NostrEvent } from '../../nips/nip01.js'
import {
  closeAll,
  connect,
  connectMany,
  countEvents,
  eventFrames,
  publishAll,
  timeQuery,
  type WebSocket,
} from '../client.js'
import { signMarket, type Market } from '../page-market.js'
import { bareReq, hasShown, installProbe, readProbe, scrollJobs, type ListFigures, type View } from '../page-probe.js'
import { MB, type Ctx, type Outcome } from '../scenario.js'
import { median, percentile, round, table } from '../stats.js'

export type PageOptions = { jobs: number; providers: number; runs: number }

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']
const VIEWS: readonly View[] = ['providers', 'jobs']
/** A laptop's window; the jobs list is 70 % of its height. */
const VIEWPORT = { width: 1280, height: 800 }
const SCROLL_MS = 2000
const CONNECTIONS = 4
const WINDOW = 64

/** The relay's ledger entries (31118, its own key) stored so far. */
async function ledgerCount(ws: WebSocket, relay: string, timeoutMs: number): Promise<number> {
  const r = await countEvents(ws, { kinds: [LEDGER], authors: [relay] }, timeoutMs)
  if (r.closed !== undefined) throw new Error(`the relay refused COUNT of its ledger: ${r.closed}`)
  return r.count
}

/** Publishes `events` until each has its OK; a refusal fails the seeding, saying why. */
async function publish(url: string, events: readonly NostrEvent[], what: string, timeoutMs: number): Promise<void> {
  const { sockets, failed, firstError } = await connectMany(url, CONNECTIONS)
  try {
    if (failed) throw new Error(`could not open ${failed} of ${CONNECTIONS} connections: ${firstError}`)
    const frames = eventFrames(events.map(e => JSON.stringify(e)))
    const rep = await publishAll(
      sockets,
      frames,
      events.map(e => e.id),
      WINDOW,
      timeoutMs,
    )
    if (rep.accepted !== events.length)
      throw new Error(`the relay took ${rep.accepted} of ${events.length} ${what}; first refusal: ${rep.firstRefusal}`)
  } finally {
    await closeAll(sockets)
  }
}

/** Seeds the market, then waits (bounded) until the relay's ledger has an entry for every answered job. */
async function seed(ctx: Ctx, url: string, relay: string, m: Market) {
  const ws = await connect(url)
  try {
    const before = await ledgerCount(ws, relay, ctx.timeoutMs)
    const started = performance.now()
    await publish(url, m.announcements, 'handlers and heartbeats', ctx.timeoutMs)
    await publish(url, m.requests, 'job requests', ctx.timeoutMs)
    await publish(url, m.results, 'results', ctx.timeoutMs)
    const published = performance.now()
    ctx.log(`seeded in ${((published - started) / 1000).toFixed(1)} s; waiting for ${m.results.length} ledger entries`)
    const deadline = published + ctx.timeoutMs
    let ledger = before
    while ((ledger = await ledgerCount(ws, relay, ctx.timeoutMs)) < before + m.results.length) {
      if (performance.now() > deadline)
        throw new Error(`only ${ledger - before} of ${m.results.length} ledger entries in ${ctx.timeoutMs / 1000} s`)
      await new Promise(r => setTimeout(r, 250))
    }
    return {
      publishSeconds: round((published - started) / 1000),
      ledgerWaitSeconds: round((performance.now() - published) / 1000),
      ledgerEntries: ledger,
    }
  } finally {
    await closeAll([ws])
  }
}

/**
 * One cold load of `view` in a fresh incognito context: the probe's notes, the heap after a GC, and for the jobs
 * view its list.
 */
async function load(browser: Browser, base: string, view: View, timeoutMs: number) {
  const context = await browser.createBrowserContext()
  try {
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', err => errors.push(String(err)))
    await page.setViewport(VIEWPORT)
    await page.evaluateOnNewDocument(installProbe, view)
    await page.goto(`${base}/#/${view}`, { waitUntil: 'domcontentloaded', timeout: timeoutMs })
    // Polled every 50 ms, not every frame: the probe notes the time itself, and the wait must not load the page.
    await page.waitForFunction(hasShown, { polling: 50, timeout: timeoutMs })
    const probe = await page.evaluate(readProbe)
    const list = view === 'jobs' ? await page.evaluate(scrollJobs, SCROLL_MS) : undefined
    const heapMb = await heapUsedMb(page)
    if (errors.length) throw new Error(`the page threw: ${errors.join('; ')}`)
    return { probe, list, heapMb }
  } finally {
    await context.close()
  }
}

/** The page's JS heap in use after a full GC (CDP's JSHeapUsedSize), in MB. */
async function heapUsedMb(page: Page): Promise<number> {
  const cdp = await page.createCDPSession()
  await cdp.send('HeapProfiler.collectGarbage')
  await cdp.detach()
  return ((await page.metrics()).JSHeapUsedSize ?? NaN) / MB
}

type Load = Awaited<ReturnType<typeof load>>

/**
 * The page's own REQ again, to split its wait: from this process over ws (the relay and loopback alone), and from
 * a page of the relay's origin without the page script (what receiving the events costs the browser itself).
 */
async function replay(browser: Browser, base: string, url: string, req: string, timeoutMs: number) {
  if (!req) throw new Error('the page sent no REQ')
  const filters = (JSON.parse(req) as unknown[]).slice(2)
  const ws = await connect(url)
  const node = await timeQuery(ws, filters, timeoutMs).finally(() => closeAll([ws]))
  const context = await browser.createBrowserContext()
  try {
    const page = await context.newPage()
    await page.goto(`${base}/skill.md`, { timeout: timeoutMs })
    const bare = await page.evaluate(bareReq, url, req)
    return { nodeEoseMs: node.ms, nodeEvents: node.events, bareEoseMs: bare.eoseMs, bareEvents: bare.events }
  } finally {
    await context.close()
  }
}

type Replay = Awaited<ReturnType<typeof replay>>

/** The first Chromium found; fails before anything is started when there is none. */
function chromium(): string {
  const path = CHROMIUM.find(p => existsSync(p))
  if (!path)
    throw new Error(`the page scenario needs Chromium: none at ${CHROMIUM.join(', ')} (apt-get install chromium)`)
  return path
}

/** Runs the scenario against ctx's relay; the browser and the relay are closed when it settles. */
export async function page(ctx: Ctx, o: PageOptions): Promise<Outcome> {
  const executablePath = chromium()
  const signing = performance.now()
  const market = signMarket(o.jobs, o.providers, ctx.seed)
  const signSeconds = round((performance.now() - signing) / 1000)
  ctx.log(`signed ${o.providers} providers and ${o.jobs} jobs (${market.results.length} answered) in ${signSeconds} s`)
  // A provider's assertion (30382) is otherwise republished at most once a minute: with 0 it counts its deliveries
  // by the time the ledger is written, and no update arrives while the page is measured.
  const target = await ctx.relay({ overrides: { 'market.assertion_interval': '0' } })
  let browser: Browser | undefined
  try {
    const relay = (await fetchRelayInfo(target.url)).pubkey
    if (!relay) throw new Error(`${target.url}'s NIP-11 document names no relay key (self)`)
    const seeded = await seed(ctx, target.url, relay, market)
    const base = target.url.replace(/^ws/, 'http').replace(/\/$/, '')
    const res = await fetch(`${base}/app.js`)
    if (!res.ok) throw new Error(`${base}/app.js: HTTP ${res.status} (is the page built? npm run build:web)`)
    const script = Buffer.from(await res.arrayBuffer())
    browser = await puppeteer.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu'] })
    const loads: Record<View, Load[]> = { providers: [], jobs: [] }
    const replays: Replay[] = []
    for (let r = 0; r < o.runs; r++) {
      for (const view of VIEWS) {
        const l = await load(browser, base, view, ctx.timeoutMs)
        loads[view].push(l)
        const p = l.probe
        ctx.log(
          `run ${r + 1}/${o.runs} ${view}: shown at ${round(p.shown)} ms (EOSE ${round(p.eose)} ms, ${p.events} events)`,
        )
      }
      replays.push(await replay(browser, base, target.url, loads.jobs[r]!.probe.req, ctx.timeoutMs))
    }
    const setup = { ...seeded, signSeconds, customers: market.customers, results: market.results.length }
    return outcome(o, setup, { bytes: script.length, gzipBytes: gzipSync(script).length }, loads, replays)
  } finally {
    await browser?.close()
    await target.close()
  }
}

/** Median, min and max of the time to the view, and the median of each part of it, over the runs. */
function summarize(loads: readonly Load[]) {
  const med = (f: (l: Load) => number) => round(median(loads.map(f)))
  const shown = loads.map(l => l.probe.shown)
  return {
    shownMedianMs: med(l => l.probe.shown),
    shownMinMs: round(Math.min(...shown)),
    shownMaxMs: round(Math.max(...shown)),
    htmlMs: med(l => l.probe.html),
    scriptMs: med(l => l.probe.script),
    wsOpenMs: med(l => l.probe.open),
    firstEventMs: med(l => l.probe.firstEvent),
    eoseMs: med(l => l.probe.eose),
    openToEoseMs: med(l => l.probe.eose - l.probe.open),
    domMs: med(l => l.probe.dom),
    events: med(l => l.probe.events),
    eventsAfterEose: Math.max(...loads.map(l => l.probe.eventsAfterEose)),
    receivedKb: med(l => l.probe.chars / 1024),
    heapMb: med(l => l.heapMb),
  }
}

/** The list's figures of one load: element counts and the intervals between the frames of the scroll. */
function listFigures(list: ListFigures) {
  const gaps = new Float64Array(Math.max(0, list.stamps.length - 1))
  gaps.forEach((_, i) => (gaps[i] = list.stamps[i + 1]! - list.stamps[i]!))
  const max = gaps.length ? Math.max(...gaps) : NaN
  return {
    listed: list.listed,
    listHeightPx: list.listHeightPx,
    top: list.top,
    middle: list.middle,
    bottom: list.bottom,
    frames: gaps.length,
    frameMedianMs: round(percentile(gaps, 50)),
    frameP99Ms: round(percentile(gaps, 99)),
    frameMaxMs: round(max),
  }
}

type Setup = Awaited<ReturnType<typeof seed>> & { signSeconds: number; customers: number; results: number }

/** The results for the JSON file and the terminal lines. */
function outcome(
  o: PageOptions,
  setup: Setup,
  script: { bytes: number; gzipBytes: number },
  loads: Record<View, Load[]>,
  replays: readonly Replay[],
): Outcome {
  const views = { providers: summarize(loads.providers), jobs: summarize(loads.jobs) }
  const lists = loads.jobs.flatMap(l => (l.list ? [listFigures(l.list)] : []))
  const list = {
    ...lists[0]!,
    frameMedianMs: round(median(lists.map(l => l.frameMedianMs))),
    frameP99Ms: round(median(lists.map(l => l.frameP99Ms))),
    frameMaxMs: round(Math.max(...lists.map(l => l.frameMaxMs))),
  }
  const runs = VIEWS.flatMap(view =>
    loads[view].map((l, i) => ({
      view,
      run: i + 1,
      ...Object.fromEntries(Object.entries(l.probe).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v])),
      heapMb: round(l.heapMb),
    })),
  )
  const rows = VIEWS.map(v => {
    const s = views[v]
    return [
      v,
      s.shownMedianMs,
      s.shownMinMs,
      s.shownMaxMs,
      s.htmlMs,
      s.scriptMs,
      s.wsOpenMs,
      s.eoseMs,
      s.domMs,
      s.events,
      s.receivedKb,
      s.heapMb,
    ]
  })
  const under = (v: View) => `${v} ${views[v].shownMedianMs < 1000 ? 'yes' : 'NO'} (${views[v].shownMedianMs} ms)`
  const live = VIEWS.filter(v => views[v].eventsAfterEose > 0)
  const again = {
    nodeEoseMs: round(median(replays.map(r => r.nodeEoseMs))),
    bareEoseMs: round(median(replays.map(r => r.bareEoseMs))),
    events: median(replays.map(r => r.nodeEvents)),
  }
  const parts = (v: View) => {
    const s = views[v]
    return `  ${v}: app.js in at ${s.scriptMs} ms, WebSocket open at ${s.wsOpenMs}, EOSE ${s.openToEoseMs} ms after open, rows in the DOM ${round(s.domMs - s.eoseMs)} ms after EOSE, painted ${round(s.shownMedianMs - s.domMs)} ms later`
  }
  return {
    results: {
      setup: { providers: o.providers, jobs: o.jobs, ...setup },
      viewport: VIEWPORT,
      script,
      views,
      jobsList: list,
      replay: again,
      runs,
      replays,
      lists,
    },
    table: [
      `market: ${o.providers} providers (handler + heartbeat), ${o.jobs} job requests from ${setup.customers} customers, ${setup.results} answered; signed in ${setup.signSeconds} s, published in ${setup.publishSeconds} s, the ledger complete ${setup.ledgerWaitSeconds} s later (${setup.ledgerEntries} entries)`,
      `${o.runs} cold loads per view in fresh incognito contexts, ${VIEWPORT.width}x${VIEWPORT.height}; ms since navigation start`,
      '',
      table(
        [
          'view',
          'shown p50',
          'min',
          'max',
          'HTML',
          'app.js',
          'WS open',
          'EOSE',
          'in DOM',
          'events',
          'kB recv',
          'heap MB',
        ],
        rows,
      ),
      '(shown: the first frame after the data went into the DOM; the other times are medians, heap after a GC)',
      '',
      `first view under 1 s: ${under('providers')}, ${under('jobs')}`,
      'where the time goes (medians, ms since navigation start unless said):',
      parts('providers'),
      parts('jobs'),
      `  the page's REQ again (${again.events} events), open -> EOSE: ${again.nodeEoseMs} ms from this process over ws, ${again.bareEoseMs} ms from a page without the page script (each message only parsed)`,
      `jobs list: "${list.listed}", ${list.listHeightPx} px tall; elements under #view: ${list.top.nodes} at the top, ${list.middle.nodes} in the middle, ${list.bottom.nodes} at the end; .job rows ${list.top.rows}, ${list.middle.rows}, ${list.bottom.rows}`,
      `scrolling it top to bottom in ${SCROLL_MS / 1000} s: ${list.frames} frames, interval median ${list.frameMedianMs} ms, p99 ${list.frameP99Ms} ms, max ${list.frameMaxMs} ms`,
      `page script (app.js as served): ${script.bytes} bytes, ${script.gzipBytes} gzipped`,
      ...(live.length ? [`live updates arrived while measuring (${live.join(', ')}): the store was not settled`] : []),
    ].join('\n'),
  }
}
