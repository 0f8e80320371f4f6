// agora escrow list: the escrows the market holds (DESIGN §7.5), one JSON line each on stdout, the nearest
// locktime first: what an operator watches, since the relay must rule on each before its locktime.
// agora escrow rule: the operator's decision on an escrow (a dispute), published to the running relay as the
// relay-signed ruling its fold checks like any other, so the decision is an auditable event.
import { resolve } from 'node:path'
import WebSocket from 'ws'
import type { Config } from '../../config/schema.js'
import type { NostrEvent } from '../../nips/nip01.js'
import { databaseFile } from '../app.js'
import { LIVE_ESCROWS, liveEscrow, signRuling } from '../../market/escrow-arbiter.js'
import { loadIdentity } from '../identity.js'
import { openReadDb } from '../store/db.js'

export type EscrowLine = {
  job: string
  /** The job's state, and the escrow's (held, disputed, released, ruled, settled, refunded). */
  state: string
  escrow: string
  customer: string
  provider: string
  mint: string
  sats: number
  locktime: number
  lock: string
}

/** The store's escrows, nearest locktime first. */
export function escrowList(cfg: Config): EscrowLine[] {
  const db = openReadDb(databaseFile(resolve(cfg.relay.data_dir)))
  try {
    return db
      .prepare(
        `SELECT j.id AS job, j.state, x.state AS escrow, j.customer, x.provider, x.mint, x.sats, x.locktime,
                x.lock_id AS lock
         FROM market_escrows x JOIN market_jobs j ON j.seq = x.job_seq ORDER BY x.locktime, j.id`,
      )
      .all() as EscrowLine[]
  } finally {
    db.close()
  }
}

/** The relay's own address from the config: loopback when it listens on every interface. */
const relayUrl = (cfg: Config) => {
  const host = ['0.0.0.0', '::', ''].includes(cfg.relay.host) ? '127.0.0.1' : cfg.relay.host
  return `ws://${host.includes(':') ? `[${host}]` : host}:${cfg.relay.port}`
}

/** Sends one event and resolves with the relay's OK. */
function publish(url: string, e: NostrEvent): Promise<{ ok: boolean; message: string }> {
  return new Promise((done, fail) => {
    const ws = new WebSocket(url)
    ws.once('error', err => fail(new Error(`cannot reach the relay at ${url}: ${err.message}`)))
    ws.once('open', () => ws.send(JSON.stringify(['EVENT', e])))
    ws.on('message', data => {
      const m = JSON.parse(String(data)) as unknown[]
      if (m[0] !== 'OK' || m[1] !== e.id) return
      ws.close()
      done({ ok: m[2] === true, message: String(m[3]) })
    })
  })
}

/**
 * Rules an escrow for the provider (`claim`: co-signs its claim) or the customer (`refund`: co-signs its refund)
 * and publishes the ruling to the relay at `url` (default: the config's address).
 */
export async function escrowRule(
  cfg: Config,
  job: string,
  side: 'claim' | 'refund',
  url = relayUrl(cfg),
): Promise<{ id: string; ok: boolean; message: string }> {
  const dataDir = resolve(cfg.relay.data_dir)
  const db = openReadDb(databaseFile(dataDir))
  let row
  try {
    row = db.prepare(`${LIVE_ESCROWS} AND j.id = ?`).get(job) as Parameters<typeof liveEscrow>[0] | undefined
  } finally {
    db.close()
  }
  if (!row) throw new Error(`job ${job} has no escrow waiting for a ruling`)
  const x = liveEscrow(row)
  const wire = side === 'claim' ? x.claim : x.refund
  if (!wire)
    throw new Error(
      side === 'claim'
        ? `the provider of job ${job} has published no claim (7118 claim) to co-sign`
        : `the customer of job ${job} has published no refund package (7118 refund or dispute) to co-sign`,
    )
  const identity = await loadIdentity(cfg.relay.secret_key, dataDir)
  const reason = `operator decision: ${side === 'claim' ? 'release to the provider' : 'refund to the customer'}`
  const e = signRuling(identity, x, side, wire, reason)
  return { id: e.id, ...(await publish(url, e)) }
}
