// What the customer's verbs share: the pool, the flags, a logger and the wait, and the wallets they pay from.
import { join } from 'node:path'
import { ClientError } from '../errors.js'
import { connectNwc } from '../nwc.js'
import type { Pool } from '../pool.js'
import { openWallet } from '../wallet.js'
import { HOME, str, type Values } from './options.js'

export type Ctx = { pool: Pool; v: Values; log: (l: string) => void; timeoutMs: number }

/** The Cashu wallet of --wallet (~/.agora/wallet.json by default). */
export const walletOf = (v: Values) => openWallet(str(v, 'wallet') ?? join(HOME, 'wallet.json'))

/** The Lightning wallet of --nwc; a payment without one is refused with how to give one. */
export function nwcOf(v: Values) {
  const uri = str(v, 'nwc')
  if (!uri) throw new ClientError('a Lightning payment needs a wallet: pass --nwc nostr+walletconnect://…', 2)
  return connectNwc(uri)
}
