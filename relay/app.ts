// Wires the relay together: store, writer, verifier, subscription index, policies and the server.
import { createLog, type Log } from './log.js'
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ConfigError, keepRestartKeys, loadConfig, type ConfigSources } from '../config/load.js'
import { changedKeys, type ConfigChange } from '../config/changes.js'
import type { Config } from '../config/schema.js'
import { normaliseRelayUrl } from '../nips/nip42.js'
import { buildInfo } from '../nips/nip11.js'
import { buildPolicies } from '../policies/index.js'
import { lockDataDir } from './datadir-lock.js'
import { loadIdentity } from './identity.js'
import { packageVersion } from './package-root.js'
import type { RelayCtx, Snapshot } from './protocol/context.js'
import { verbs } from './protocol/dispatch.js'
import { eventFrame } from './protocol/replies.js'
import { startServer } from './server.js'
import { buildSkill, publicUrl, skillUrl } from './skill.js'
import { openReadDb } from './store/db.js'
import { createReader } from './store/reader.js'
import { loadPageScript, marketPage } from './web-page.js'
import { createSubscriptionIndex } from './subscriptions.js'
import { makeVerifier } from './verifier.js'
import { createVerifyPool } from './verify-pool.js'
import { createMetrics, serveMetrics } from './metrics.js'
import { createCounts, createObserver } from './observe.js'
import { openWriter } from './writer-thread.js'
import { openQueries } from './reader-pool.js'
import { marketRules, standingRules } from '../market/fold.js'
import { cachedKeysets } from '../market/keysets.js'
import { cachedResolver, httpLnurlResolver } from '../market/lnurl.js'
import { httpMintClient } from '../market/mint-client.js'
import { openPublisher, type Publisher } from '../market/publisher-thread.js'
import { startEscrowArbiter } from '../market/escrow-arbiter.js'
import { startWorkflowRunner } from '../market/workflow-runner.js'
import { createManagementApi } from './management/http.js'
import { applyChange, emptyManaged, isBlockedIp, isHidden, managedView, withInfo } from './management/state.js'
import { loadManaged } from './store/management.js'
import { makeMirrorReads } from './store/mirror.js'
import { startMirrors, type Mirrors } from './mirror.js'

/** The ws:// URL of a listen address (IPv6 in brackets). */
export const listenUrl = (host: string, port: number) => `ws://${host.includes(':') ? `[${host}]` : host}:${port}`

const NOBODY: ReadonlySet<string> = new Set()

/** Path of the SQLite database inside a data dir. */
export const databaseFile = (dataDir: string) => join(dataDir, 'agora.sqlite')

/** A running relay. */
export type Relay = {
  readonly port: number
  readonly url: string
  readonly pubkey: string
  readonly verifier: string
  readonly log: Log
  /**
   * Re-reads the config sources and swaps the effective config and policies whole; connections stay.
   * Returns the keys that changed and the restart keys left pending. On error the running config stays and the
   * error says why.
   */
  reload(): { ok: true; changes: ConfigChange[]; pending: string[] } | { ok: false; error: string }
  /** Stops accepting, commits what is queued, closes connections and the database. */
  close(): Promise<void>
}

/** Starts a relay with the given effective config; `sources` are re-read on reload. */
export async function startRelay(cfg: Config, sources?: ConfigSources, log = createLog(cfg.log.level)): Promise<Relay> {
  const dataDir = resolve(cfg.relay.data_dir)
  mkdirSync(dataDir, { recursive: true })
  // One relay per data dir: taken before the writer opens the database, freed once everything is closed.
  const lock = lockDataDir(dataDir, 'agora start')
  let relay: Relay
  try {
    relay = await openRelay(cfg, dataDir, sources, log)
  } catch (err) {
    lock.release()
    throw err
  }
  return { ...relay, close: () => relay.close().finally(() => lock.release()) }
}

async function openRelay(cfg: Config, dataDir: string, sources: ConfigSources | undefined, log: Log): Promise<Relay> {
  const identity = await loadIdentity(cfg.relay.secret_key, dataDir)
  const backend = cfg.verifier.backend as Parameters<typeof makeVerifier>[0]
  // The pool checks every incoming event; the inline verifier serves rare nested checks (zap requests).
  const lnurl = cachedResolver(
    httpLnurlResolver({ timeoutMs: cfg.market.fetch_timeout, allowLoopback: cfg.market.allow_loopback }),
    { ttlMs: 3_600_000, failTtlMs: 60_000 },
  )
  const mints = httpMintClient({ timeoutMs: cfg.market.fetch_timeout })
  const keysets = cachedKeysets(mints, { allowLoopback: cfg.market.allow_loopback })
  // What the operator set through the management API (NIP-86): filled from the store once the writer has opened it.
  const managed = emptyManaged()
  const inline = await makeVerifier(backend)
  // Said once at start: the pool's workers make the same choice, for the same reason.
  if (inline.fallback) log.child({ component: 'relay' }).warn(`${inline.fallback}; verifying with ${inline.name}`)
  const deps = {
    relayPubkey: identity.pubkey,
    verify: inline.verify,
    lnurl,
    keysets,
    managed: managedView(managed),
  }
  const subs = createSubscriptionIndex()
  let snap: Snapshot = { cfg, policies: buildPolicies(cfg, deps) }
  // The server starts last: until then there are no connections.
  let connections = () => 0
  const live = { connections: () => connections(), subscriptions: subs.size }
  const counts = createCounts()
  const metrics = cfg.metrics.enabled ? createMetrics({ ...live, counts, file: databaseFile(dataDir) }) : undefined
  const observer = createObserver({ ...live, counts, log, settings: () => snap.cfg.log, metrics })
  const fanout: RelayCtx['fanout'] = (event, raw) => {
    // A ban hides an event from everyone, so it is checked once per event rather than per recipient.
    if (isHidden(managed, event)) return
    const visible = snap.policies.visible
    let delivered = 0
    for (const sub of subs.match(event)) {
      if (visible && !visible(event, sub.conn.authed)) continue
      const frame = eventFrame(sub.id, raw)
      if (sub.backlog) sub.backlog.push({ id: event.id, frame })
      else sub.conn.send(frame)
      delivered++
    }
    counts.deliveries += delivered
  }
  // Set once the reader can build outputs; the writer reports what it changed from its first commit.
  let publisher: Publisher | undefined
  let arbiter: ReturnType<typeof startEscrowArbiter> | undefined
  let runner: ReturnType<typeof startWorkflowRunner> | undefined
  // The writer creates the database, so it starts before the reader opens it.
  const writer = await openWriter({
    file: databaseFile(dataDir),
    synchronous: cfg.store.synchronous as 'full' | 'normal',
    batchMax: cfg.store.batch_max,
    market: marketRules(cfg, identity.pubkey),
    thread: cfg.store.writer_thread,
    onCommitted: saved => saved.forEach(s => fanout(s.event, s.raw)),
    onCommit: observer.committed,
    log,
    onTouched: t => {
      if (t.milestones) observer.milestones(t.milestones)
      publisher?.touch(t)
      arbiter?.touch(t.jobs)
      if (t.jobs.length > 0) runner?.touch()
    },
    // With threads, the publisher's thread computes standing and the writer only writes it (DESIGN §7.7). The
    // writer asks only after a commit, and events come only once the server listens, after the publisher is up.
    ...(cfg.store.writer_thread && cfg.market.enabled ? { onStandingDue: () => publisher?.standing?.() } : {}),
  })
  const readDb = openReadDb(databaseFile(dataDir))
  const reader = createReader(readDb)
  loadManaged(readDb, managed)
  const publisherSettings = (c: Config) => ({
    offlineAfter: c.market.offline_after,
    flagThreshold: c.market.flag_threshold,
    assertionInterval: c.market.assertion_interval,
  })
  if (cfg.market.enabled)
    publisher = await openPublisher({
      // Threads go together: the publisher's thread is the writer's companion (tests run both inline).
      thread: cfg.store.writer_thread,
      file: databaseFile(dataDir),
      readDb,
      identity,
      secretKey: cfg.relay.secret_key,
      dataDir,
      intervalMs: cfg.market.publish_interval,
      settings: publisherSettings(cfg),
      store: (e, raw) => writer.enqueue(e, raw),
      standing: standingRules(cfg, identity.pubkey),
      applyStanding: (diff, tookMs) => writer.applyStanding(diff, tookMs),
      log,
    })
  if (metrics && cfg.market.enabled)
    metrics.market({
      db: readDb,
      offlineAfter: () => snap.cfg.market.offline_after,
      publisherLag: async () => (await publisher?.lag()) ?? 0,
    })
  const arbiterSettings = (c: Config) => ({
    jobTtl: c.market.job_ttl,
    disputeWindow: c.market.dispute_window,
    escrowMargin: c.market.escrow_margin,
    reconcileInterval: c.market.reconcile_interval,
  })
  if (cfg.market.enabled)
    arbiter = startEscrowArbiter({
      db: readDb,
      identity,
      mints,
      store: (e, raw) => writer.enqueue(e, raw),
      settings: () => arbiterSettings(snap.cfg),
      log: line => log.info({ component: 'escrow' }, line),
    })
  if (cfg.market.enabled)
    runner = startWorkflowRunner({
      db: readDb,
      identity,
      store: (e, raw, note) => writer.enqueue(e, raw, note),
      log: line => log.info({ component: 'workflow' }, line),
    })
  const queries = await openQueries(databaseFile(dataDir), cfg.store.reader_threads, reader, observer.queried)
  const verifier = await createVerifyPool(backend, cfg.verifier.workers, metrics?.verify)
  const views = {
    largestZapMsats: reader.largestZapMsats,
    knownJob: reader.knownJob,
    lightningAddresses: reader.lightningAddresses,
    wallet: reader.wallet,
  }
  const rc: RelayCtx = {
    snapshot: () => snap,
    queries,
    writer,
    verifier,
    subs,
    identity,
    now: () => Math.floor(Date.now() / 1000),
    policyCtx: conn => {
      const nowMs = Date.now()
      return { now: Math.floor(nowMs / 1000), nowMs, ip: conn.ip, authed: conn.authed, views }
    },
    relayUrls: conn => [normaliseRelayUrl(snap.cfg.relay.url || `ws://${conn.host}`)],
    fanout,
    log,
    observer,
  }
  const verbNips = Object.values(verbs).flatMap(v => v.nips)
  const version = packageVersion()
  let server: Awaited<ReturnType<typeof startServer>> | undefined
  // Asked only once the server listens, so its port is known.
  const urlFor = (host: string) => publicUrl(snap.cfg, host, listenUrl(cfg.relay.host, server?.port ?? 0))
  const pageScript = loadPageScript()
  const info = (host: string) =>
    buildInfo(withInfo(managed, snap.cfg), {
      pubkey: identity.pubkey,
      supportedNips: [11, ...verbNips, ...snap.policies.nips, ...(snap.cfg.relay.admins.length > 0 ? [86] : [])],
      version,
      skill: skillUrl(urlFor(host)),
      ...snap.policies.info,
    })
  const skill = (host: string) =>
    buildSkill(withInfo(managed, snap.cfg), {
      url: urlFor(host),
      pubkey: identity.pubkey,
      policies: snap.policies.info,
      kindVerdicts: managed.kinds,
    })
  let metricsServer: Awaited<ReturnType<typeof serveMetrics>> | undefined
  let mirrors: Mirrors | undefined
  let closing: Promise<void> | undefined
  const sweeper = setInterval(
    () => void writer.sweepExpired(rc.now()).catch(() => undefined),
    cfg.store.sweep_interval * 1000,
  )
  sweeper.unref()
  // Idempotent: a second close must not free the listen socket twice.
  const close = () =>
    (closing ??= (async () => {
      clearInterval(sweeper)
      // First: nothing more comes from upstream while the writer drains.
      mirrors?.close()
      observer.close()
      server?.close()
      await metricsServer?.close()
      await arbiter?.close()
      await runner?.close()
      await publisher?.close()
      await writer.close()
      await verifier.close()
      await queries.close()
      reader.close()
    })())
  try {
    // Its own listener when metrics.port is set, else the relay's port.
    if (metrics && cfg.metrics.port > 0)
      metricsServer = await serveMetrics(metrics, cfg.metrics.host || cfg.relay.host, cfg.metrics.port)
    server = await startServer(rc, {
      host: cfg.relay.host,
      port: cfg.relay.port,
      maxFrame: Math.min(Math.max(4 * cfg.limits.max_message_length, 1 << 20), 64 << 20),
      maxOutboundBytes: cfg.limits.max_outbound_bytes,
      info,
      skill,
      page: host => marketPage(info(host), pageScript !== undefined),
      pageScript,
      manage: createManagementApi({
        managed,
        relayPubkey: identity.pubkey,
        // Committed first, then applied here: the hot path never sees a change the store would lose.
        change: async c => {
          await writer.manage(c)
          applyChange(managed, c)
          if (c.op === 'block-ip') server?.dropBlocked()
        },
        admins: () => snap.cfg.relay.admins,
        relayUrls: host => [normaliseRelayUrl(snap.cfg.relay.url || `http://${host}`)],
        verify: e => verifier.verify(e),
        now: rc.now,
        log,
      }),
      ipBlocked: ip => isBlockedIp(managed, ip),
      ...(metrics && !metricsServer ? { metrics } : {}),
    })
    connections = server.connections
    // Restart-only (config/mirror.ts): a reload keeps the upstreams it started with.
    if (cfg.mirror.length > 0) {
      mirrors = startMirrors({
        rc,
        entries: cfg.mirror,
        reads: makeMirrorReads(readDb),
        keys: reader.keys,
        // A mirrored event has no connection: no address, nobody authenticated (so NIP-70 events never come in).
        policyCtx: () => {
          const nowMs = Date.now()
          return { now: Math.floor(nowMs / 1000), nowMs, ip: '', authed: NOBODY, views }
        },
        log,
      })
      metrics?.mirror(mirrors.stats)
    }
  } catch (err) {
    await close() // the port is taken: nothing opened for it stays open
    throw err
  }
  return {
    port: server.port,
    url: listenUrl(cfg.relay.host, server.port),
    pubkey: identity.pubkey,
    verifier: verifier.name,
    log,
    reload() {
      try {
        const next = keepRestartKeys(snap.cfg, loadConfig(sources))
        const changes = changedKeys(snap.cfg, next.cfg)
        snap = { cfg: next.cfg, policies: buildPolicies(next.cfg, deps) }
        log.level = next.cfg.log.level
        publisher?.settings(publisherSettings(next.cfg))
        return { ok: true, changes, pending: next.pending }
      } catch (err) {
        if (err instanceof ConfigError) return { ok: false, error: err.message }
        throw err
      }
    },
    close,
  }
}
