// The harness: parses the command line, runs one scenario against a local agora (a child process on a temp
// store) or --url, prints a table and writes bench/results/<scenario>-<timestamp>.json.
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, release, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { Ctx, Outcome } from './scenario.js'
import { agent } from './scenarios/agent.js'
import { connections } from './scenarios/connections.js'
import { fanout } from './scenarios/fanout.js'
import { ingest } from './scenarios/ingest.js'
import { negentropy } from './scenarios/negentropy.js'
import { page } from './scenarios/page.js'
import { writer } from './scenarios/writer.js'
import { mirrorFlood } from './scenarios/mirror-flood.js'
import { query } from './scenarios/query.js'
import { standing } from './scenarios/standing.js'
import { verify } from './scenarios/verify.js'
import { scraped } from './scrape.js'
import { remoteRelay, repoRoot, startLocalRelay, type Overrides } from './target.js'

export const USAGE = `usage: npm run bench -- <scenario> [--url ws://HOST:PORT [--pid PID]] [options]

scenarios (defaults in brackets):
  ingest       -n EVENTS [20000] -c CONNECTIONS [8] -w WINDOW [64] -r RUNS [3] --mix market|notes [market]
  fanout       -s SUBSCRIBERS [1000] --subs-per-conn [20] -n EVENTS per run [5000] -p PUBLISHERS [1]
               -w WINDOW [64] -r RUNS [3]
  query        -n STORE_EVENTS [1000000] -k QUERIES per shape [100] [--data DIR] [--load]
  connections  -c CONNECTIONS [10000]
  standing     -n EDGES [100000] -r RUNS [3]   (agora's own computation of standing, in this process; no --url)
  verify       -n EVENTS [2000] -r ROUNDS [7]   (one signature check per verifier backend, in this process; no --url)
  writer       -n EVENTS [60000] --batches LIST [64,256,512,2000] -r ROUNDS [3] --mix market|notes [market]
               (the store's writer alone, in this process; no --url)
  agent        -n JOBS [500] -w WINDOW [16] -k JOBS one at a time [50] --concurrency N [8]
               (one \`agora agent\` process with exec:cat; this process is its customer)
  page         -n JOBS [10000] --providers P [500] -r RUNS [5]
               (the market page at / in headless Chromium, on a relay seeded with P providers and N jobs)
  negentropy   -n STORE_EVENTS [1000000] -r RUNS [3] --diffs PERCENTS [0.1,1,10] [--data DIR] [--load]
               (NIP-77 reconciliation of a client's set against the query scenario's store)
  mirror-flood -k ROUND_TRIPS [2000] --budget EVENTS_PER_MINUTE [30000]
               (a local client's latency without a mirror, then with an upstream sending 10x the budget; no --url)

common options:
  --url URL        benchmark a running relay instead of starting agora (loopback only)
  --pid PID        with --url: the relay's process id, to measure its CPU and RSS from /proc
  --set KEY=VALUE  config override for the local agora (dotted key, repeatable), e.g. store.synchronous=normal
  --metrics        the local agora serves /metrics (metrics.enabled), scraped every second during the run
  --seed N         corpus and choice seed [1]
  --cache DIR      signed corpora cache [bench/.cache]
  --out DIR        where the JSON report goes [bench/results]
  --timeout S      upper bound of each waiting phase, in seconds [600]`

const options = {
  url: { type: 'string' },
  pid: { type: 'string' },
  events: { type: 'string', short: 'n' },
  connections: { type: 'string', short: 'c' },
  window: { type: 'string', short: 'w' },
  runs: { type: 'string', short: 'r' },
  subscribers: { type: 'string', short: 's' },
  'subs-per-conn': { type: 'string' },
  publishers: { type: 'string', short: 'p' },
  queries: { type: 'string', short: 'k' },
  concurrency: { type: 'string' },
  providers: { type: 'string' },
  diffs: { type: 'string' },
  budget: { type: 'string' },
  mix: { type: 'string' },
  batches: { type: 'string' },
  data: { type: 'string' },
  load: { type: 'boolean' },
  set: { type: 'string', multiple: true },
  metrics: { type: 'boolean' },
  seed: { type: 'string' },
  cache: { type: 'string' },
  out: { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

export class UsageError extends Error {}

/** The corpus of ingest and writer: the market's mix or notes only. */
function mixOf(mix: string | undefined): 'market' | 'notes' {
  if (mix === undefined || mix === 'market' || mix === 'notes') return mix ?? 'market'
  throw new UsageError('--mix is market or notes')
}

export const SCENARIOS = [
  'ingest',
  'fanout',
  'query',
  'connections',
  'standing',
  'verify',
  'writer',
  'agent',
  'page',
  'negentropy',
  'mirror-flood',
] as const

export type Report = {
  scenario: string
  startedAt: string
  command: string
  options: Record<string, unknown>
  machine: {
    cpu: string
    cores: number
    ramGb: number
    node: string
    os: string
    /** 1, 5 and 15 minute load averages when the scenario started and when it ended (others share the machine). */
    loadavg: { start: number[]; end: number[] }
  }
  relay: {
    url: string
    local: boolean
    pid?: number
    verifier?: string
    commit?: string
    overrides: Overrides
  }
  results: Record<string, unknown>
}

function int(name: string, v: string | undefined, fallback: number, min = 1): number {
  if (v === undefined) return fallback
  const x = Number(v.replaceAll('_', '').replaceAll(',', ''))
  if (!Number.isSafeInteger(x) || x < min) throw new UsageError(`--${name} must be an integer >= ${min}, got "${v}"`)
  return x
}

function loopbackUrl(url: string): string {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new UsageError(`--url: not a URL: ${url}`)
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new UsageError('--url must be ws:// or wss://')
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname))
    throw new UsageError('--url must be a loopback address (127.0.0.1, localhost or [::1])')
  return url
}

function overridesOf(list: readonly string[] | undefined): Overrides {
  const out: Record<string, string> = {}
  for (const item of list ?? []) {
    const eq = item.indexOf('=')
    if (eq < 1) throw new UsageError(`--set takes KEY=VALUE, got "${item}"`)
    out[item.slice(0, eq)] = item.slice(eq + 1)
  }
  return out
}

function gitCommit(): string | undefined {
  try {
    const git = (...args: string[]) => execFileSync('git', ['-C', repoRoot, ...args], { encoding: 'utf8' }).trim()
    return git('rev-parse', '--short', 'HEAD') + (git('status', '--porcelain', '--untracked-files=no') ? '+dirty' : '')
  } catch {
    return undefined
  }
}

export type Io = { print(s: string): void; log(s: string): void }

/** Runs `npm run bench -- ARGV`; returns the report and the JSON file it wrote. Throws UsageError on bad input. */
export async function run(
  argv: readonly string[],
  io: Io = { print: s => console.log(s), log: s => console.error(s) },
): Promise<{ report: Report; file: string }> {
  let parsed
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const { values: v, positionals } = parsed
  if (v.help) throw new UsageError('')
  const scenario = positionals[0]
  if (positionals.length !== 1 || !SCENARIOS.includes(scenario as (typeof SCENARIOS)[number]))
    throw new UsageError(`give one scenario: ${SCENARIOS.join(', ')}`)
  const url = v.url === undefined ? undefined : loopbackUrl(v.url)
  if (v.pid !== undefined && url === undefined) throw new UsageError('--pid goes with --url')
  const pid = v.pid === undefined ? undefined : int('pid', v.pid, 0)
  const overrides = { ...overridesOf(v.set), ...(v.metrics ? { 'metrics.enabled': 'true' } : {}) }
  if (url && Object.keys(overrides).length)
    throw new UsageError('--set and --metrics apply to the local agora only, not --url')
  const seed = int('seed', v.seed, 1, 0)
  const timeoutMs = int('timeout', v.timeout, 600) * 1000
  const cacheDir = resolve(v.cache ?? join(repoRoot, 'bench/.cache'))
  const outDir = resolve(v.out ?? join(repoRoot, 'bench/results'))

  let firstRelay: Omit<Report['relay'], 'overrides'> | undefined
  const ctx: Ctx = {
    local: url === undefined,
    overrides,
    cacheDir,
    seed,
    timeoutMs,
    log: io.log,
    async relay(opts = {}) {
      const local = () =>
        startLocalRelay({
          ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
          overrides: { ...opts.overrides, ...overrides },
          timeoutMs,
        })
      const target =
        url !== undefined ? remoteRelay(url, pid) : v.metrics ? await scraped(await local(), io.log) : await local()
      firstRelay ??= {
        url: target.url,
        local: target.local,
        ...(target.pid !== undefined ? { pid: target.pid } : {}),
        ...(target.verifier !== undefined ? { verifier: target.verifier } : {}),
        // Read when the relay starts: a commit landing during a long run must not be credited with it.
        ...(target.local ? { commit: gitCommit() } : {}),
      }
      if (target.local) io.log(`agora ${target.url} (pid ${target.pid}, verifier ${target.verifier ?? '?'})`)
      return target
    },
  }

  let opts: Record<string, unknown>
  let outcome: Outcome
  const startedAt = new Date()
  const load = () => loadavg().map(x => Math.round(x * 100) / 100)
  const loadAtStart = load()
  if (scenario === 'ingest') {
    const o = {
      events: int('events', v.events, 20_000),
      connections: int('connections', v.connections, 8),
      window: int('window', v.window, 64),
      runs: int('runs', v.runs, 3),
      mix: mixOf(v.mix),
    }
    opts = o
    outcome = await ingest(ctx, o)
  } else if (scenario === 'fanout') {
    const o = {
      subscribers: int('subscribers', v.subscribers, 1000),
      subsPerConn: int('subs-per-conn', v['subs-per-conn'], 20),
      events: int('events', v.events, 5000),
      publishers: int('publishers', v.publishers, 1),
      window: int('window', v.window, 64),
      runs: int('runs', v.runs, 3),
    }
    opts = o
    outcome = await fanout(ctx, o)
  } else if (scenario === 'query') {
    const o = {
      events: int('events', v.events, 1_000_000),
      queries: int('queries', v.queries, 100),
      data: v.data === undefined ? undefined : resolve(v.data),
      load: v.load ?? false,
    }
    if (o.data && url) throw new UsageError('--data applies to the local agora only')
    if (o.load && !url) throw new UsageError('--load goes with --url (a local store is filled by agora import)')
    opts = o
    outcome = await query(ctx, o)
  } else if (scenario === 'standing') {
    if (url) throw new UsageError('standing measures agora’s own computation in this process: no --url')
    firstRelay = { url: 'in-process', local: true, commit: gitCommit() }
    const o = { edges: int('events', v.events, 100_000), runs: int('runs', v.runs, 3) }
    opts = o
    outcome = await standing(ctx, o)
  } else if (scenario === 'verify') {
    if (url) throw new UsageError('verify measures agora’s own verifier backends in this process: no --url')
    firstRelay = { url: 'in-process', local: true, commit: gitCommit() }
    const o = { events: int('events', v.events, 2000), rounds: int('runs', v.runs, 7) }
    opts = o
    outcome = await verify(ctx, o)
  } else if (scenario === 'writer') {
    if (url) throw new UsageError('writer measures agora’s own writer in this process: no --url')
    firstRelay = { url: 'in-process', local: true, commit: gitCommit() }
    const batches = (v.batches ?? '64,256,512,2000').split(',').map(b => int('batches', b, 1))
    const o = { events: int('events', v.events, 60_000), batches, runs: int('runs', v.runs, 3), mix: mixOf(v.mix) }
    opts = o
    outcome = await writer(ctx, o)
  } else if (scenario === 'agent') {
    const o = {
      jobs: int('events', v.events, 500),
      window: int('window', v.window, 16),
      sequential: int('queries', v.queries, 50),
      concurrency: int('concurrency', v.concurrency, 8),
    }
    opts = o
    outcome = await agent(ctx, o)
  } else if (scenario === 'negentropy') {
    const o = {
      events: int('events', v.events, 1_000_000),
      runs: int('runs', v.runs, 3),
      diffs: (v.diffs ?? '0.1,1,10').split(',').map(d => {
        const x = Number(d)
        if (!(x > 0 && x <= 100)) throw new UsageError('--diffs is a list of percentages, e.g. 0.1,1,10')
        return x
      }),
      data: v.data === undefined ? undefined : resolve(v.data),
      load: v.load ?? false,
    }
    if (o.data && url) throw new UsageError('--data applies to the local agora only')
    opts = o
    outcome = await negentropy(ctx, o)
  } else if (scenario === 'page') {
    const o = {
      jobs: int('events', v.events, 10_000),
      providers: int('providers', v.providers, 500),
      runs: int('runs', v.runs, 5),
    }
    opts = o
    outcome = await page(ctx, o)
  } else if (scenario === 'mirror-flood') {
    if (url) throw new UsageError('mirror-flood configures the local agora’s mirror: no --url')
    const o = { requests: int('queries', v.queries, 2000), budget: int('budget', v.budget, 30_000) }
    opts = o
    outcome = await mirrorFlood(ctx, o)
  } else {
    const o = { connections: int('connections', v.connections, 10_000) }
    opts = o
    outcome = await connections(ctx, o)
  }

  const c = cpus()
  const report: Report = {
    scenario,
    startedAt: startedAt.toISOString(),
    command: ['npm run bench --', ...argv].join(' '),
    options: { ...opts, seed, cacheDir, timeoutS: timeoutMs / 1000 },
    machine: {
      cpu: c[0]?.model ?? 'unknown',
      cores: c.length,
      ramGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      node: process.version,
      os: `${process.platform} ${release()}`,
      loadavg: { start: loadAtStart, end: load() },
    },
    relay: {
      ...(firstRelay ?? { url: url ?? '', local: url === undefined }),
      overrides,
    },
    results: outcome.results,
  }
  mkdirSync(outDir, { recursive: true })
  const file = join(outDir, `${scenario}-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n')
  const m = report.machine
  io.print(
    [
      '',
      report.relay.url === 'in-process'
        ? `${scenario} in this process (agora ${report.relay.commit ?? ''})`
        : `${scenario} against ${report.relay.url}${report.relay.local ? ` (local agora ${report.relay.commit ?? ''}, verifier ${report.relay.verifier ?? '?'})` : ''}`,
      `machine: ${m.cpu}, ${m.cores} cores, ${m.ramGb} GB, node ${m.node}, load ${m.loadavg.start.join(' ')} at start, ${m.loadavg.end.join(' ')} at end`,
      '',
      outcome.table,
      '',
      `wrote ${file}`,
    ].join('\n'),
  )
  return { report, file }
}
