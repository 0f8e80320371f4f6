// What every client command shares: its relays and key from flags or AGORA_CLIENT_*, a pool connected to them,
// one line per thing worth saying on stderr, and the session the market's verbs run with.
import type { Pool } from '../pool.js'
import { connectPool, nwcOf, walletOf, type Session } from '../verbs/session.js'
import { list, str, type Spec, type Values } from './options.js'

/** Flags every client command takes. */
export const CONNECTION: Spec = {
  relay: { type: 'string', multiple: true },
  key: { type: 'string' },
  quiet: { type: 'boolean' },
}

/** Prints a line on stderr, prefixed with the command, unless --quiet. */
export const logger = (v: Values, name: string) => (line: string) => {
  if (!v['quiet']) process.stderr.write(`agora ${name}: ${line}\n`)
}

/** The pool of --relay URLs (the local relay by default) signed by --key (created 0600 when missing), connected. */
export const connect = (v: Values, log: (l: string) => void): Promise<Pool> =>
  connectPool(list(v, 'relay'), str(v, 'key'), log)

/** The session of a command: answers on stdout, its wallets from --wallet, --nwc and --mint. */
export const sessionOf = (pool: Pool, v: Values, log: (l: string) => void, timeoutMs: number): Session => ({
  pool,
  log,
  out: line => console.log(line),
  timeoutMs,
  wallet: walletOf(str(v, 'wallet')),
  nwc: nwcOf(str(v, 'nwc')),
  lightning: str(v, 'nwc') !== undefined,
  mint: str(v, 'mint'),
})
