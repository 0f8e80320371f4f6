// Every config key, declared once: type, default, one-line doc, and whether a change needs a restart.
// config/agora.reference.toml is generated from this table (npm run config:generate); a test keeps the two in step.

import { bool, HEX_PUBKEY, int, list, oneOf, str, type ConfigOf } from './fields.js'
import { mirror } from './mirror.js'
import { authWrites, kindWhitelist, pow, privateReads, rateLimit, zapGate } from './policies.js'

export const schema = {
  relay: {
    host: str(
      '127.0.0.1',
      'Address to listen on. Use 0.0.0.0 only when a firewall or reverse proxy fronts the relay.',
      true,
    ),
    port: int(7777, 'TCP port for WebSocket and NIP-11 (0 picks a free port).', 0, 65535, true),
    url: str('', 'Public URL clients use (wss://relay.example.com). Checked in NIP-42 AUTH; empty = the Host header.'),
    real_ip_header: str(
      '',
      'Header carrying the client address set by your reverse proxy (e.g. x-forwarded-for, last value is used); empty = the socket address.',
    ),
    data_dir: str('./data', 'Directory of the SQLite database and the relay key.', true),
    secret_key: str('', 'Relay secret key as hex; empty = read or create data_dir/relay.key (mode 0600).', true),
    name: str('agora', 'NIP-11 name.'),
    description: str('A Nostr relay with a NIP-90 DVM marketplace built in.', 'NIP-11 description.'),
    contact: str('', 'NIP-11 contact (mailto: or a URI).'),
    icon: str('', 'NIP-11 icon URL.'),
    admins: list(
      [],
      'Pubkeys (hex) allowed to manage the running relay over HTTP (NIP-86, NIP-98 auth); empty = the management API is off.',
      HEX_PUBKEY,
      'a 64-character lowercase hex pubkey',
    ),
  },
  limits: {
    max_message_length: int(131072, 'Largest accepted WebSocket message, in bytes.', 1024, 16777216, true),
    max_subscriptions: int(20, 'Open subscriptions per connection.', 1, 10000),
    max_filters: int(10, 'Filters per REQ or COUNT.', 1, 1000),
    max_filter_values: int(500, 'Values per filter list (ids, authors, kinds, each #tag).', 1, 100000),
    max_limit: int(5000, 'Largest `limit` honoured; larger requests are clamped to it.', 1, 1000000),
    default_limit: int(500, 'Stored events sent for a filter without `limit`.', 1, 1000000),
    max_subid_length: int(64, 'Longest subscription id.', 1, 256),
    max_event_tags: int(2000, 'Most tags one event may carry.', 1, 1000000),
    max_content_length: int(65536, 'Longest event content, in characters.', 1, 16777216),
    // At least a minute, or clock skew alone refuses fresh events; at most a century.
    created_at_lower_limit: int(
      94608000,
      'How far in the past created_at may be, in seconds (3 years).',
      60,
      3_155_760_000,
    ),
    created_at_upper_limit: int(900, 'How far in the future created_at may be, in seconds.', 0, 31_536_000),
    max_outbound_bytes: int(
      16777216,
      'Unsent bytes queued for one connection before it is cut off as a slow reader.',
      65536,
      1073741824,
      true,
    ),
    query_time_budget_ms: int(
      500,
      'A stored-event scan that takes longer is refused with CLOSED rather than cut short.',
      1,
      600000,
    ),
    max_negentropy_sessions: int(4, 'Open NIP-77 (negentropy) sessions per connection.', 1, 1000),
    // strfry refuses past the same number by default.
    max_negentropy_records: int(
      1_000_000,
      'Most stored events one NIP-77 session may reconcile; a larger filter is refused with NEG-ERR `blocked:`.',
      1,
      100_000_000,
    ),
    negentropy_idle_timeout: int(
      60,
      'Seconds a NIP-77 session waits for the next message before it is closed with NEG-ERR `closed:`.',
      1,
      86400,
    ),
    allow_scrape: bool(true, 'Serve filters with no ids, authors, kinds or tags (newest first, up to the limit).'),
    auth_window: int(600, 'How far an AUTH event created_at may be from now, in seconds.', 1, 86400),
  },
  log: {
    level: oneOf(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      'info',
      'Least severe log level written to stderr (JSON lines, or readable lines on a terminal); event content appears only at debug.',
    ),
    summary_interval: int(
      60,
      'Seconds between summary lines: connections and subscriptions, refusals by prefix, market milestones.',
      1,
      86400,
      true,
    ),
    slow_query_ms: int(
      200,
      'A REQ or COUNT whose scan takes at least this long is logged (warn) with its filters’ shape; 0 logs every one.',
      0,
      600000,
    ),
    slow_commit_ms: int(
      500,
      'A writer commit that takes at least this long is logged (warn) with its batch size; 0 logs every one.',
      0,
      600000,
    ),
  },
  metrics: {
    enabled: bool(false, 'Serve Prometheus metrics at /metrics.', true),
    host: str(
      '',
      'Address of a listener of its own for /metrics; empty = relay.host. Used only with metrics.port.',
      true,
    ),
    port: int(0, 'Port of that listener; 0 = serve /metrics on the relay’s own port.', 0, 65535, true),
  },
  store: {
    synchronous: oneOf(
      ['full', 'normal'],
      'full',
      'SQLite synchronous mode: full survives power loss, normal survives process crashes.',
      true,
    ),
    writer_thread: bool(
      true,
      'Commit on a thread of its own, so transactions, fsyncs and checkpoints never block the event loop.',
      true,
    ),
    reader_threads: int(
      2,
      'Threads that run REQ and COUNT scans off the event loop, each on its own read-only connection; 0 runs them on it.',
      0,
      64,
      true,
    ),
    batch_max: int(1000, 'Most events committed in one writer transaction.', 1, 100000, true),
    sweep_interval: int(60, 'Seconds between sweeps that delete expired (NIP-40) events.', 1, 86400, true),
  },
  verifier: {
    backend: oneOf(
      ['auto', 'native', 'wasm', 'noble'],
      'auto',
      'Signature verifier: auto picks the fastest available (native: libsecp256k1 in C, built by npm install; then wasm, then noble).',
      true,
    ),
    workers: int(2, 'Threads that check signatures off the event loop; 0 checks them on it.', 0, 64, true),
  },
  market: {
    enabled: bool(
      true,
      'Run the DVM market (docs/market-protocol.md). After turning it on for a store that already holds events, run `agora market rebuild`.',
      true,
    ),
    flag_threshold: int(
      3,
      'Summed standing of the reporters (customers of its delivered jobs) that flags a provider: 3 = three keys of full standing. Its results and feedback are then refused.',
      1,
      1000,
      true,
    ),
    trust_roots: list(
      [],
      'Pubkeys (hex) that standing flows from, besides the relay key: through their trust declarations, then paid jobs and good reviews. Reputation counts only what keys with standing sign (DESIGN §7.7).',
      HEX_PUBKEY,
      'a 64-character lowercase hex pubkey',
      true,
    ),
    zap_gate_standing: int(
      1,
      'Percent of standing that the keys which unlocked the zap gate share, in proportion to the sats they paid (0: none). The rest goes to the roots.',
      0,
      50,
      true,
    ),
    standing_interval: int(
      30,
      'Seconds between two computations of standing and reputation at least, each once its inputs changed; gates and flags read the last one.',
      0,
      86400,
      true,
    ),
    job_ttl: int(
      86400,
      'Seconds an open (or escrow-locked) job waits for a result before the sweep expires it.',
      1,
      31536000,
      true,
    ),
    offline_after: int(
      600,
      'Seconds after its last heartbeat (by the relay clock) that a provider counts as offline.',
      1,
      86400,
    ),
    assertion_interval: int(
      60,
      'Seconds between two publications of one provider’s assertion (30382), however often its inputs change.',
      0,
      86400,
    ),
    publish_interval: int(
      1000,
      'Milliseconds between publications of the relay-signed outputs (30382, 31118) for what changed.',
      50,
      60000,
      true,
    ),
    fetch_timeout: int(
      5000,
      'Milliseconds to wait for an LNURL server or a mint when checking a payment.',
      100,
      60000,
      true,
    ),
    mints: list(
      [],
      'Mints an escrow lock (7117) may use, besides being in the provider’s 10019; empty: any mint the provider lists.',
      /^https?:\/\/\S+$/,
      'a mint URL (http or https)',
    ),
    dispute_window: int(
      86400,
      'Seconds after an escrowed job is delivered during which its customer may dispute; then the relay rules for the provider.',
      0,
      31536000,
      true,
    ),
    escrow_margin: int(
      3600,
      'Seconds between the relay’s last possible ruling on an escrowed job and the lock’s locktime (locks must leave at least job_ttl + dispute_window + this).',
      0,
      31536000,
      true,
    ),
    reconcile_interval: int(
      60,
      'Seconds the reconciler first waits between asking a mint whether an escrow’s proofs are spent (doubling while nothing moves, up to an hour).',
      1,
      3600,
    ),
    allow_loopback: bool(
      false,
      'Let LNURL and mint lookups reach loopback addresses (tests and local development only: on a public relay a provider could point them at local ports).',
      true,
    ),
  },
  policies: {
    open: bool(false, 'Turn the anti-spam policies off (kind whitelist, PoW, zap gate, rate limits).'),
    auth_allowlist: list(
      [],
      'Pubkeys (hex) that skip PoW and the zap gate once authenticated with NIP-42.',
      HEX_PUBKEY,
      'a 64-character lowercase hex pubkey',
    ),
    kind_whitelist: kindWhitelist,
    pow,
    zap_gate: zapGate,
    rate_limit: rateLimit,
    auth_writes: authWrites,
    private_reads: privateReads,
  },
  mirror,
} as const

export type Schema = typeof schema
/** The effective configuration: one value per schema key, with TOML spelling kept. */
export type Config = ConfigOf<Schema>
