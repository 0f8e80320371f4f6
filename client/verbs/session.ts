// What the market's verbs run with, whoever calls them (the CLI or the MCP server): the pool, where their answer and
// their notes go, how long they wait, and the wallets they pay from.
import { homedir } from 'node:os'
import { join } from 'node:path'
import { ClientError } from '../errors.js'
import { loadKeyFile } from '../keys.js'
import { connectNwc, type Nwc } from '../nwc.js'
import { Pool } from '../pool.js'
import { openWallet, type LocalWallet } from '../wallet.js'

/** Where the client keeps its key and wallet unless told otherwise. */
export const HOME = join(homedir(), '.agora')
const DEFAULT_RELAY = 'ws://127.0.0.1:7777'

export type Session = {
  readonly pool: Pool
  /** A note on what the verb is doing (stderr in the CLI). */
  readonly log: (line: string) => void
  /** The verb's answer, a line at a time (stdout in the CLI, the tool's result in MCP). */
  readonly out: (line: string) => void
  /** How long a verb waits for the relays (a result, a claim, a ruling). */
  readonly timeoutMs: number
  /** The Cashu wallet (opened on each use: another process may share its file). */
  readonly wallet: () => Promise<LocalWallet>
  /** The Lightning wallet; a ClientError saying how to give one when there is none. */
  readonly nwc: () => Promise<Nwc>
  /** True when a Lightning wallet was given (checked before posting a job that would pay through it). */
  readonly lightning: boolean
  /** The mint to pay or lock at; else the first both sides take. */
  readonly mint?: string | undefined
}

/** Where a client's files are: its key (created 0600 when missing) and its Cashu wallet. */
export type ClientFiles = { readonly key?: string | undefined; readonly wallet?: string | undefined }

export const walletFile = (file: string | undefined) => file ?? join(HOME, 'wallet.json')

/** The Cashu wallet of `file` (~/.agora/wallet.json by default). */
export const walletOf = (file: string | undefined) => () => openWallet(walletFile(file))

/** The Lightning wallet of a NIP-47 URI; a payment without one is refused with how to give one. */
export const nwcOf = (uri: string | undefined) => () => {
  if (!uri) throw new ClientError('a Lightning payment needs a wallet: pass --nwc nostr+walletconnect://…', 2)
  return connectNwc(uri)
}

/** A pool over `relays` (the local relay when none) signed by the key file, connected. */
export async function connectPool(relays: readonly string[], keyFile: string | undefined, log: (l: string) => void) {
  const signer = loadKeyFile(keyFile ?? join(HOME, 'key'), { create: true })
  const pool = new Pool(relays.length ? relays : [DEFAULT_RELAY], signer, { log })
  try {
    await pool.connect()
  } catch (err) {
    pool.close()
    throw err
  }
  return pool
}
