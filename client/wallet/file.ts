// The wallet file: JSON, mode 0600, replaced atomically (temp file in the same dir, fsync, rename, fsync the dir)
// so that a crash leaves the old file or the new one, never half of one. It holds bearer money and a secret key,
// so a file others can read is refused, as ssh refuses such keys.
import { randomBytes } from 'node:crypto'
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { SerializedOutputData } from '@cashu/cashu-ts'
import type { CashuProof } from '../../nips/nip61.js'
import { ClientError } from '../errors.js'

/** A proof as the file keeps it: as a `proof` tag carries it (NUT-00, amount as a number, the NUT-12 DLEQ with its r). */
export type StoredProof = CashuProof

/** An escrow swap prepared by this wallet: the escrowed inputs and its outputs' blinding data, to redeem later. */
export type StoredSwap = {
  readonly mint: string
  readonly keysetId: string
  readonly amount: number
  readonly fees: number
  readonly inputs: readonly StoredProof[]
  readonly outputs: readonly SerializedOutputData[]
}

/** A mint quote asked for and not minted yet, kept so that a paid invoice is not forgotten. */
export type StoredQuote = { readonly mint: string; readonly quote: string; readonly sats: number }

export type WalletData = {
  readonly version: 1
  /** The P2PK secret key (hex) that receives nutzaps and signs the provider's escrow claims. */
  readonly p2pk: string
  /** Unspent proofs by normalised mint URL. */
  proofs: Record<string, StoredProof[]>
  quotes: StoredQuote[]
  /** Prepared escrow swaps by job id. */
  swaps: Record<string, StoredSwap>
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)

/** The wallet in `file`, checked: mode 0600 (no group or world bits), valid JSON, a wallet's shape. */
export function readWalletFile(file: string): WalletData {
  const mode = statSync(file).mode & 0o777
  if ((mode & 0o077) !== 0) {
    throw new ClientError(
      `wallet file ${file} has mode ${mode.toString(8).padStart(4, '0')}: it holds money and a secret key, so only ` +
        `its owner may read it; run chmod 600 ${file}`,
    )
  }
  let data: unknown
  try {
    data = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new ClientError(`wallet file ${file} is not valid JSON (${(err as Error).message}); restore it from a backup`)
  }
  const why = shapeRefusal(data)
  if (why) throw new ClientError(`wallet file ${file} is not an agora wallet: ${why}`)
  return data as WalletData
}

function shapeRefusal(d: unknown): string | undefined {
  if (!isObject(d)) return 'not a JSON object'
  if (d.version !== 1) return `version ${JSON.stringify(d.version)} is not 1`
  if (typeof d.p2pk !== 'string' || !/^[0-9a-f]{64}$/.test(d.p2pk)) return 'p2pk is not a 64-hex secret key'
  if (!isObject(d.proofs) || !Object.values(d.proofs).every(Array.isArray)) return 'proofs is not a map of lists'
  if (!Array.isArray(d.quotes)) return 'quotes is not a list'
  if (!isObject(d.swaps)) return 'swaps is not a map'
  return undefined
}

/** A new, empty wallet around `p2pk`. */
export const emptyWallet = (p2pk: string): WalletData => ({ version: 1, p2pk, proofs: {}, quotes: [], swaps: {} })

/** Replaces `file` with `data` atomically, mode 0600, creating its directory when missing. */
export function writeWalletFile(file: string, data: WalletData): void {
  const dir = dirname(file)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    const fd = openSync(tmp, 'wx', 0o600)
    try {
      writeSync(fd, JSON.stringify(data, null, 2) + '\n')
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, file)
  } catch (err) {
    rmSync(tmp, { force: true })
    throw err
  }
  // The rename is durable only once the directory entry is.
  const dirFd = openSync(dir, 'r')
  try {
    fsyncSync(dirFd)
  } finally {
    closeSync(dirFd)
  }
}
