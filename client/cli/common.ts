// What every client command shares: its relays and key from flags or AGORA_CLIENT_*, a pool connected to them,
// and one line per thing worth saying on stderr.
import { join } from 'node:path'
import { loadKeyFile } from '../keys.js'
import { Pool } from '../pool.js'
import { HOME, list, str, type Spec, type Values } from './options.js'

/** Flags every client command takes. */
export const CONNECTION: Spec = {
  relay: { type: 'string', multiple: true },
  key: { type: 'string' },
  quiet: { type: 'boolean' },
}

const DEFAULT_RELAY = 'ws://127.0.0.1:7777'

/** Prints a line on stderr, prefixed with the command, unless --quiet. */
export const logger = (v: Values, name: string) => (line: string) => {
  if (!v['quiet']) process.stderr.write(`agora ${name}: ${line}\n`)
}

/** The pool of --relay URLs (the local relay by default) signed by --key (created 0600 when missing), connected. */
export async function connect(v: Values, log: (l: string) => void): Promise<Pool> {
  const signer = loadKeyFile(str(v, 'key') ?? join(HOME, 'key'), { create: true })
  const relays = list(v, 'relay')
  const pool = new Pool(relays.length ? relays : [DEFAULT_RELAY], signer, { log })
  try {
    await pool.connect()
  } catch (err) {
    pool.close()
    throw err
  }
  return pool
}
