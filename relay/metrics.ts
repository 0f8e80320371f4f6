// Prometheus metrics (README "Metrics"), from a registry of the relay's own. The hot path never touches prom-client:
// events, refusals and deliveries are plain numbers the observer (relay/observe.ts) increments, copied into their
// counters on scrape; gauges (connections, WAL size, the market's live jobs, escrows and providers) are read on
// scrape too. Only per-batch and per-query timings are observed as they happen.
import { statSync } from 'node:fs'
import { createServer } from 'node:http'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { ESCROW_STATES, JOB_STATES, makeMarketGauges, type MarketGauges } from '../market/gauges.js'
import type { UpstreamStats } from './mirror.js'
import type { Db } from './store/db.js'
import { KIND_CLASSES, MILESTONES, PREFIXES, REPLIES, type Counts, type Live } from './observe.js'
import type { QueryPath } from './reader-pool.js'

export type MetricSources = Live & {
  readonly counts: Counts
  /** The database file; its -wal file's size is a gauge. */
  readonly file: string
}

/** What the market's gauges read: the event loop's read connection, the offline rule, the publisher's lag. */
export type MarketSources = { readonly db: Db; offlineAfter(): number; publisherLag(): Promise<number> }

const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** The relay's registry and the timings observed as they happen. */
export function createMetrics(sources: MetricSources) {
  const registry = new Registry()
  const registers = [registry]
  const { counts } = sources
  const P = PREFIXES.length

  new Counter({
    name: 'agora_events_received_total',
    help: 'EVENT messages received (within limits.max_message_length).',
    registers,
    collect() {
      this.reset()
      this.inc(counts.received)
    },
  })
  new Counter({
    name: 'agora_events_accepted_total',
    help: 'Events answered OK true and stored (or delivered live, for ephemeral kinds), by kind class.',
    labelNames: ['class'],
    registers,
    collect() {
      this.reset()
      KIND_CLASSES.forEach((c, i) => this.inc({ class: c }, counts.accepted[i]!))
    },
  })
  new Counter({
    name: 'agora_events_duplicate_total',
    help: 'Events answered OK true with "duplicate:": already stored.',
    registers,
    collect() {
      this.reset()
      this.inc(counts.duplicate)
    },
  })
  new Counter({
    name: 'agora_events_refused_total',
    help: 'Well-formed events answered OK false, by prefix and kind class.',
    labelNames: ['prefix', 'class'],
    registers,
    collect() {
      this.reset()
      KIND_CLASSES.forEach((c, k) =>
        PREFIXES.forEach((prefix, p) => this.inc({ prefix, class: c }, counts.eventsRefused[k * P + p]!)),
      )
    },
  })
  new Counter({
    name: 'agora_refusals_total',
    help: 'Refusals sent, by prefix and reply (ok: OK false, closed: CLOSED, notice: NOTICE, http: a refused upgrade).',
    labelNames: ['prefix', 'reply'],
    registers,
    collect() {
      this.reset()
      REPLIES.forEach((reply, r) =>
        PREFIXES.forEach((prefix, p) => this.inc({ prefix, reply }, counts.refusals[r * P + p]!)),
      )
    },
  })
  new Counter({
    name: 'agora_fanout_deliveries_total',
    help: 'EVENT frames queued for live subscriptions.',
    registers,
    collect() {
      this.reset()
      this.inc(counts.deliveries)
    },
  })
  new Gauge({
    name: 'agora_connections',
    help: 'Open WebSocket connections.',
    registers,
    collect() {
      this.set(sources.connections())
    },
  })
  new Gauge({
    name: 'agora_subscriptions',
    help: 'Open subscriptions (REQs not closed).',
    registers,
    collect() {
      this.set(sources.subscriptions())
    },
  })
  new Gauge({
    name: 'agora_wal_bytes',
    help: 'Size of the SQLite write-ahead log file.',
    registers,
    collect() {
      this.set(statSync(`${sources.file}-wal`, { throwIfNoEntry: false })?.size ?? 0)
    },
  })
  new Counter({
    name: 'process_cpu_seconds_total',
    help: 'User and system CPU time of the relay process, all threads, in seconds.',
    registers,
    collect() {
      const { user, system } = process.cpuUsage()
      this.reset()
      this.inc((user + system) / 1e6)
    },
  })
  new Gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory of the relay process.',
    registers,
    collect() {
      this.set(process.memoryUsage.rss())
    },
  })
  const batchSize = new Histogram({
    name: 'agora_writer_batch_size',
    help: 'Events per writer transaction.',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
    registers,
  })
  const commitSeconds = new Histogram({
    name: 'agora_writer_commit_seconds',
    help: 'Time of one writer transaction (store and market fold, commit and fsync), in seconds.',
    buckets: SECONDS,
    registers,
  })
  const verifySeconds = new Histogram({
    name: 'agora_verify_seconds',
    help: 'Time from handing a batch of signatures to a verify thread to its answer (inline: one check), in seconds.',
    buckets: [0.0001, 0.00025, ...SECONDS.slice(0, 10)],
    registers,
  })
  const querySeconds = new Histogram({
    name: 'agora_query_seconds',
    help: 'Scan time on a reader of one REQ filter, by the index the planner drove it from (path), or of one COUNT.',
    labelNames: ['path'],
    buckets: SECONDS,
    registers,
  })
  return {
    contentType: registry.contentType,
    /** The metrics in Prometheus text format. */
    text: () => registry.metrics(),
    commit(size: number, ms: number): void {
      batchSize.observe(size)
      commitSeconds.observe(ms / 1000)
    },
    verify: (_size: number, ms: number) => verifySeconds.observe(ms / 1000),
    query: (path: QueryPath, ms: number) => querySeconds.observe({ path }, ms / 1000),
    /** Adds the market's gauges, once its read connection is open. */
    market: (m: MarketSources) => marketMetrics(registers, counts, m),
    /** Adds each mirrored upstream's counts, once the mirrors run. */
    mirror: (stats: () => readonly UpstreamStats[]) => mirrorMetrics(registers, stats),
  }
}

export type Metrics = ReturnType<typeof createMetrics>

// The market's gauges are read again only once 100 times their last read's duration has passed, so they never take
// more than a hundredth of the event loop however often Prometheus scrapes and however large the market grows (on
// a small store, every scrape reads them).
const READ_SHARE = 100

function marketMetrics(registers: Registry[], counts: Counts, m: MarketSources): void {
  const gauges = makeMarketGauges(m.db)
  let read: MarketGauges = { jobs: new Map(), escrows: new Map(), online: 0 }
  let nextAt = 0
  /** The market's numbers, read again when due. */
  function current(): MarketGauges {
    const started = performance.now()
    if (started < nextAt) return read
    read = gauges.read(Math.floor(Date.now() / 1000) - m.offlineAfter())
    nextAt = started + READ_SHARE * (performance.now() - started)
    return read
  }

  new Gauge({
    name: 'agora_market_jobs',
    help: 'Jobs waiting for a result (open, locked in escrow) or for the customer’s pick of a swarm (judging).',
    labelNames: ['state'],
    registers,
    collect() {
      const { jobs } = current()
      for (const state of JOB_STATES) this.set({ state }, jobs.get(state) ?? 0)
    },
  })
  new Gauge({
    name: 'agora_market_escrows',
    help: 'Escrows whose proofs are not spent yet, by state (held, disputed, released, ruled).',
    labelNames: ['state'],
    registers,
    collect() {
      const { escrows } = current()
      for (const state of ESCROW_STATES) this.set({ state }, escrows.get(state) ?? 0)
    },
  })
  new Gauge({
    name: 'agora_market_providers_online',
    help: 'Providers with a heartbeat received within market.offline_after.',
    registers,
    collect() {
      this.set(current().online)
    },
  })
  new Counter({
    name: 'agora_market_milestones_total',
    help: 'Market milestones since start: jobs delivered, providers flagged.',
    labelNames: ['milestone'],
    registers,
    collect() {
      this.reset()
      MILESTONES.forEach((milestone, i) => this.inc({ milestone }, counts.milestones[i]!))
    },
  })
  new Gauge({
    name: 'agora_market_publisher_lag_seconds',
    help: 'How long the oldest market change not yet published (31118, 30382) has waited; 0 when none waits.',
    registers,
    async collect() {
      this.set(await m.publisherLag())
    },
  })
}

const MIRROR_OUTCOMES = ['stored', 'duplicates', 'refused', 'garbage', 'dropped'] as const

function mirrorMetrics(registers: Registry[], stats: () => readonly UpstreamStats[]): void {
  new Counter({
    name: 'agora_mirror_events_total',
    help: 'Events from each mirrored upstream: stored, duplicates, refused by the rules, garbage, dropped over its bounds.',
    labelNames: ['upstream', 'outcome'],
    registers,
    collect() {
      this.reset()
      for (const u of stats()) for (const outcome of MIRROR_OUTCOMES) this.inc({ upstream: u.url, outcome }, u[outcome])
    },
  })
  new Counter({
    name: 'agora_mirror_cutoffs_total',
    help: 'Times each mirrored upstream was cut off for a backoff (over its budget or backlog, or sending garbage).',
    labelNames: ['upstream'],
    registers,
    collect() {
      this.reset()
      for (const u of stats()) this.inc({ upstream: u.url }, u.cutoffs)
    },
  })
}

/** Serves /metrics on a listener of its own (metrics.port); resolves once it listens. */
export function serveMetrics(metrics: Metrics, host: string, port: number): Promise<{ close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') return void res.writeHead(404).end('not found')
    metrics.text().then(
      body => res.writeHead(200, { 'Content-Type': metrics.contentType }).end(body),
      (err: Error) => res.writeHead(500).end(`error: ${err.message}`),
    )
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () =>
      resolve({
        close: () =>
          new Promise<void>(done => {
            server.closeAllConnections()
            server.close(() => done())
          }),
      }),
    )
  })
}
