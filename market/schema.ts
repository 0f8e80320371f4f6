// The market's tables (DESIGN §3, §7): everything here is folded from stored events by market/fold.ts and
// can be rebuilt from them, except `facts_payments`, which keeps what the admission proved with facts from
// outside (LNURL servers, mints), so that a rebuild needs no network and reaches the same verdicts.

export const MARKET_DDL = `
-- Jobs are keyed by the seq of their stored request (for a job known only from a result's embedded request,
-- by the result's seq; market_implied maps its id), so a new job is appended and a delivery, which answers a
-- recent request, updates a page near the end: keyed by the random hex id, each was a random page written.
-- A job is found by id through the events' id index.
CREATE TABLE IF NOT EXISTS market_jobs (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  customer TEXT NOT NULL,
  kind INTEGER NOT NULL,
  bid_msats INTEGER,
  targets TEXT NOT NULL,
  min_reputation INTEGER,
  min_zap_msats INTEGER,
  created_at INTEGER NOT NULL,
  -- The relay's clock: an open job received market.job_ttl seconds ago is expired by the sweep.
  received_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  provider TEXT,
  result_id TEXT,
  amount_msats INTEGER,
  delivered_at INTEGER,
  paid_msats INTEGER NOT NULL DEFAULT 0,
  paid_at INTEGER,
  -- A swarm's number of submissions to collect (kind 5118); NULL for other jobs.
  swarm INTEGER,
  -- A workflow step's workflow (the 5117's id) and index; NULL for other jobs.
  workflow TEXT,
  step INTEGER
);
CREATE INDEX IF NOT EXISTS market_jobs_workflow ON market_jobs(workflow, step) WHERE workflow IS NOT NULL;
CREATE INDEX IF NOT EXISTS market_jobs_swarm ON market_jobs(seq) WHERE swarm IS NOT NULL;
-- Workflows (5117): keyed by id, as the customer's deletion (its cancel) removes the event but not the record.
CREATE TABLE IF NOT EXISTS market_workflows (
  id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  customer TEXT NOT NULL,
  steps INTEGER NOT NULL,
  -- running, completed, failed or cancelled.
  state TEXT NOT NULL,
  received_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS market_workflows_running ON market_workflows(state) WHERE state = 'running';
-- The report rule finds a workflow's steps by its customer (the relay signs their requests).
CREATE INDEX IF NOT EXISTS market_workflows_customer ON market_workflows(customer);
-- Open and locked jobs expire at the deadline (a locked job undelivered by then is refundable).
CREATE INDEX IF NOT EXISTS market_jobs_due ON market_jobs(received_at) WHERE state IN ('open', 'locked');
-- Jobs created from a result's embedded request (posted on another relay): their id, and their customer for
-- the report rule (a stored request is found under its customer in the events' indexes).
CREATE TABLE IF NOT EXISTS market_implied (
  id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  customer TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS market_implied_customer ON market_implied(customer);
-- Per provider, its delivered jobs and their summed response time: what its assertion reads, kept as counters (one
-- small hot row per provider, updated on every delivery) instead of an index of jobs by provider.
CREATE TABLE IF NOT EXISTS market_deliveries (
  provider TEXT PRIMARY KEY,
  delivered INTEGER NOT NULL,
  response_s INTEGER NOT NULL
) WITHOUT ROWID;
-- Per provider and customer with a paid job or a job refunded from escrow after delivery (a dispute lost): how many
-- of each. Standing's paid-job edges and the counted jobs of reputation read it. A row is written only when a job
-- becomes paid (or no longer is) or is refunded, never per delivery (measured: a row per pair written at each
-- delivery cost ingest about 4 %), and goes when both counts are back to 0, as a rebuild would not make it.
CREATE TABLE IF NOT EXISTS market_pairs (
  provider TEXT NOT NULL,
  customer TEXT NOT NULL,
  paid INTEGER NOT NULL,
  refunded INTEGER NOT NULL,
  PRIMARY KEY (provider, customer)
) WITHOUT ROWID;
-- Quotes: feedback with an amount from a provider the job is open to (what it asks, and what a zap to
-- the quote pays), keyed by the feedback's seq. Other feedback is stored as an event and moves nothing,
-- so the market keeps no row.
CREATE TABLE IF NOT EXISTS market_quotes (
  seq INTEGER PRIMARY KEY,
  job_seq INTEGER NOT NULL,
  provider TEXT NOT NULL,
  amount_msats INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS market_quotes_job ON market_quotes(job_seq, provider, created_at);
-- Escrow locks (7117, DESIGN §7.5): one per job, keyed by the job's seq; the lock and the actions (7118) on it
-- are the record. State and packages as market/actions.ts moves them.
CREATE TABLE IF NOT EXISTS market_escrows (
  job_seq INTEGER PRIMARY KEY,
  lock_seq INTEGER NOT NULL,
  lock_id TEXT NOT NULL,
  provider TEXT NOT NULL,
  mint TEXT NOT NULL,
  sats INTEGER NOT NULL,
  locktime INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'held',
  -- The relay's clock when the escrowed provider delivered: the dispute window runs from here.
  delivered_at INTEGER,
  -- The provider's claim and the customer's refund (SIG_ALL packages, serialized), the latest of each.
  claim TEXT,
  refund TEXT,
  -- The package that a release or ruling made spendable, and the ruling's side and event.
  spend TEXT,
  ruling TEXT,
  ruling_id TEXT,
  dispute_id TEXT,
  -- How the proofs were spent, as the relay's spent record (7118) says: path and signers (JSON).
  path TEXT,
  signers TEXT
);
CREATE INDEX IF NOT EXISTS market_escrows_lock ON market_escrows(lock_seq);
-- What the relay's arbiter and reconciler walk: escrows not spent yet.
CREATE INDEX IF NOT EXISTS market_escrows_live ON market_escrows(state) WHERE state NOT IN ('settled', 'refunded');
-- The proofs pledged, by Y: a proof pledged to one job cannot be pledged to another.
CREATE TABLE IF NOT EXISTS market_escrow_proofs (
  y TEXT PRIMARY KEY,
  job_seq INTEGER NOT NULL
) WITHOUT ROWID;
-- A swarm's submissions (results to a 5118), one per provider: submitted, then winner or rejected.
CREATE TABLE IF NOT EXISTS market_submissions (
  job_seq INTEGER NOT NULL,
  provider TEXT NOT NULL,
  result_id TEXT NOT NULL,
  amount_msats INTEGER,
  created_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  PRIMARY KEY (job_seq, provider)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS market_submissions_result ON market_submissions(result_id);
-- Pay-to-decrypt results (21117, DESIGN §7.6) kept while their job waits: by seq, found by job and key hash.
CREATE TABLE IF NOT EXISTS market_sealed (
  seq INTEGER PRIMARY KEY,
  job_seq INTEGER NOT NULL,
  provider TEXT NOT NULL,
  key_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS market_sealed_job ON market_sealed(job_seq, key_hash);
-- Proven fraud: a sealed result that its own key does not open to its committed plaintext. Flags at once.
CREATE TABLE IF NOT EXISTS market_frauds (
  provider TEXT NOT NULL,
  sealed_id TEXT NOT NULL,
  reveal_id TEXT NOT NULL,
  why TEXT NOT NULL,
  PRIMARY KEY (provider, sealed_id)
) WITHOUT ROWID;
-- Verified payments: one row per payment hash (zap) or proof Y (nutzap), so each counts once.
CREATE TABLE IF NOT EXISTS market_payments (
  ref TEXT PRIMARY KEY,
  via TEXT NOT NULL,
  evidence TEXT NOT NULL,
  provider TEXT NOT NULL,
  payer TEXT NOT NULL,
  job TEXT,
  msats INTEGER NOT NULL,
  -- The relay's clock when its evidence was stored.
  at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS market_payments_evidence ON market_payments(evidence);
CREATE INDEX IF NOT EXISTS market_payments_job ON market_payments(job, provider) WHERE job IS NOT NULL;
CREATE INDEX IF NOT EXISTS market_payments_provider ON market_payments(provider);
-- Rows of replaceable and addressable events are keyed by author and address, which is how a
-- replacement or deletion finds them (with the id checked): no index by id.
-- The provider registry: one row per announcement address, so replacement and deletion map one to one.
CREATE TABLE IF NOT EXISTS market_handlers (
  pubkey TEXT NOT NULL,
  d TEXT NOT NULL,
  id TEXT NOT NULL,
  kinds TEXT NOT NULL,
  name TEXT,
  lud16 TEXT,
  skill TEXT,
  PRIMARY KEY (pubkey, d)
) WITHOUT ROWID;
-- Lightning addresses from kind 0 profiles (only profiles that name one), where zaps are resolved from.
CREATE TABLE IF NOT EXISTS market_profiles (
  pubkey TEXT PRIMARY KEY,
  id TEXT NOT NULL,
  lud16 TEXT NOT NULL
) WITHOUT ROWID;
-- NIP-61 nutzap info (10019): the key nutzaps must be locked to and the mints accepted.
CREATE TABLE IF NOT EXISTS market_wallets (
  pubkey TEXT PRIMARY KEY,
  id TEXT NOT NULL,
  p2pk TEXT NOT NULL,
  mints TEXT NOT NULL
) WITHOUT ROWID;
-- received_at is the relay's clock: a future-dated heartbeat keeps nobody online. Keyed by the heartbeat's
-- seq, so each is appended and its replacement or deletion finds it by seq; a provider's heartbeats are found
-- through the events' (pubkey, kind) index.
CREATE TABLE IF NOT EXISTS market_heartbeats (
  seq INTEGER PRIMARY KEY,
  received_at INTEGER NOT NULL,
  status TEXT,
  capacity INTEGER,
  kinds TEXT NOT NULL,
  price TEXT
);
-- One review per job per reviewer (31117 is addressable with d = the job, so a newer one replaces it).
CREATE TABLE IF NOT EXISTS market_reviews (
  job TEXT NOT NULL,
  job_seq INTEGER NOT NULL,
  reviewer TEXT NOT NULL,
  id TEXT NOT NULL,
  reviewed TEXT NOT NULL,
  rating INTEGER NOT NULL,
  role TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (job, reviewer)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS market_reviews_reviewed ON market_reviews(reviewed);
-- DVM trust declarations: one per (truster, trusted), as 30382 is addressable with d = the trusted key.
CREATE TABLE IF NOT EXISTS market_trust (
  truster TEXT NOT NULL,
  trusted TEXT NOT NULL,
  id TEXT NOT NULL,
  PRIMARY KEY (trusted, truster)
) WITHOUT ROWID;
-- Attestations (30085); \`at\` is created_at, never later than the relay received it.
CREATE TABLE IF NOT EXISTS market_attestations (
  id TEXT PRIMARY KEY,
  attestor TEXT NOT NULL,
  subject TEXT NOT NULL,
  rating REAL NOT NULL,
  confidence REAL NOT NULL,
  at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS market_attestations_subject ON market_attestations(subject);
-- Reports (1984) that count: from a customer of a delivered job with the reported provider.
CREATE TABLE IF NOT EXISTS market_reports (
  id TEXT PRIMARY KEY,
  provider TEXT NOT NULL,
  reporter TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS market_reports_provider ON market_reports(provider, reporter);
-- Standing (market/standing.ts), computed from the tables above by market/fold/standing.ts when its inputs changed,
-- at most every market.standing_interval: every key the walk from the roots reaches, its share of the walk and its
-- weight in [0, 1] (a key absent here has none).
CREATE TABLE IF NOT EXISTS market_standing (
  pubkey TEXT PRIMARY KEY,
  standing REAL NOT NULL,
  weight REAL NOT NULL
) WITHOUT ROWID;
-- Reputation, computed with standing: per key that something counts for, each input counted by the weight of the
-- key that produced it (trusters, customers, payers, reviewers, attestors, reporters) beside its raw count, and the
-- score. Gates, flags and the relay's 30382 read the last computation.
CREATE TABLE IF NOT EXISTS market_reputation (
  pubkey TEXT PRIMARY KEY,
  score INTEGER NOT NULL,
  trusted_by REAL NOT NULL,
  trusted_by_raw INTEGER NOT NULL,
  jobs_paid REAL NOT NULL,
  jobs_paid_raw INTEGER NOT NULL,
  jobs_refunded REAL NOT NULL,
  jobs_refunded_raw INTEGER NOT NULL,
  received_msats REAL NOT NULL,
  received_msats_raw INTEGER NOT NULL,
  -- Customers' reviews of paid jobs: the reviewers' weight summed, the weighted mean rating, the count.
  reviews REAL NOT NULL,
  avg_rating REAL,
  reviews_raw INTEGER NOT NULL,
  -- Attestations: the attestors' weight summed, the mean rating weighted by weight, confidence and age, the count.
  attestations REAL NOT NULL,
  attestation REAL,
  attestations_raw INTEGER NOT NULL,
  -- Reports that count (by customers of its delivered jobs): the reporters' weight summed, and their number.
  reports REAL NOT NULL,
  reports_raw INTEGER NOT NULL
) WITHOUT ROWID;
-- What the admission proved about a receipt or nutzap with facts from outside (an LNURL server's key,
-- a mint's keyset): kept across rebuilds, so a replay reads the verdict instead of judging again with
-- whatever the store holds by then.
CREATE TABLE IF NOT EXISTS facts_payments (
  evidence TEXT NOT NULL,
  ref TEXT NOT NULL,
  via TEXT NOT NULL,
  recipient TEXT NOT NULL,
  payer TEXT NOT NULL,
  zapped TEXT,
  msats INTEGER NOT NULL,
  PRIMARY KEY (evidence, ref)
) WITHOUT ROWID;
-- The job requests the relay published as a workflow's steps, by request id: only the relay's own writes
-- carry this fact, so no client can publish a step.
CREATE TABLE IF NOT EXISTS facts_workflow_steps (
  evidence TEXT PRIMARY KEY,
  workflow TEXT NOT NULL,
  step INTEGER NOT NULL
) WITHOUT ROWID;
-- What the admission proved about an escrow lock with the mint's keysets and info: its value after fees,
-- locktime and proofs' Ys, by the lock's id.
CREATE TABLE IF NOT EXISTS facts_escrows (
  evidence TEXT PRIMARY KEY,
  job TEXT NOT NULL,
  provider TEXT NOT NULL,
  mint TEXT NOT NULL,
  sats INTEGER NOT NULL,
  locktime INTEGER NOT NULL,
  ys TEXT NOT NULL
) WITHOUT ROWID;
`

/**
 * The condition that finds a job by its id (bound as @id): through market_implied for a job created from an
 * embedded request, else through the events' id index to its request's seq.
 */
export const JOB_BY_ID =
  'seq = coalesce((SELECT seq FROM market_implied WHERE id = @id), (SELECT seq FROM events WHERE id = @id)) AND id = @id'

/** The market tables, in the order a comparison or a rebuild walks them (the facts tables are not rebuilt). */
export const MARKET_TABLES = [
  'market_jobs',
  'market_implied',
  'market_deliveries',
  'market_pairs',
  'market_quotes',
  'market_escrows',
  'market_escrow_proofs',
  'market_submissions',
  'market_workflows',
  'market_sealed',
  'market_frauds',
  'market_payments',
  'market_handlers',
  'market_profiles',
  'market_wallets',
  'market_heartbeats',
  'market_reviews',
  'market_trust',
  'market_attestations',
  'market_reports',
  'market_standing',
  'market_reputation',
] as const
