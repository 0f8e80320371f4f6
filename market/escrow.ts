// Escrow locks (kind 7117, DESIGN §7.5): the customer's Cashu proofs for a job, locked so that two of the
// provider, the customer and the relay must sign to move them (NUT-11 P2PK, SIG_ALL), and refundable to the
// customer alone after the locktime. Checked offline before the relay accepts a lock; pure: the mint's keysets
// and info come from the caller, which fetches and caches them. Offline checks prove the mint signed the
// proofs, not that they are unspent (the reconciler asks the mint, NUT-07).
import { isHex64, reject, type NostrEvent, type Rejection } from '../nips/nip01.js'
import {
  compressedKey,
  inputFeeSats,
  mintedSats,
  mintUrl,
  p2pkLock,
  readProofTags,
  proofY,
  type CashuProof,
  type Keyset,
  type MissingKeyset,
} from '../nips/nip61.js'

export const ESCROW_LOCK = 7117

/** What a kind-7117 event claims, before any check. */
export type EscrowLock = {
  /** The job request the lock pays for. */
  readonly job: string
  readonly provider: string
  /** The `u` tag, normalised. */
  readonly mint: string
  readonly proofs: readonly CashuProof[]
}

/** What the relay must know to judge a lock. Keys are x-only hex (Nostr form). */
export type LockTerms = {
  /** The lock's author. */
  readonly customer: string
  readonly relay: string
  /** The provider's 10019 (its P2PK key, compressed, and its mints); undefined when it published none. */
  readonly provider: { readonly p2pk: string; readonly mints: readonly string[] } | undefined
  /** Mints the operator allows (`market.mints`); undefined: any the provider lists. */
  readonly allowedMints: readonly string[] | undefined
  /** NUTs the mint's `/v1/info` says it supports; undefined: its info is not known yet. */
  readonly mintNuts: ReadonlySet<number> | undefined
  readonly keyset: (mint: string, id: string) => Keyset | undefined
}

/** The mint's info is not known yet: fetch it and check again. */
export type MissingInfo = { readonly missingInfo: string }

/** A lock that passed: its value after the mint's input fees, its locktime, and its proofs' Ys. */
export type CheckedLock = { readonly sats: number; readonly locktime: number; readonly ys: readonly string[] }

const bad = (reason: string) => reject('invalid', `escrow: ${reason}`)

// Without these the mint would not enforce the lock (NUT-10/11: proofs may be anyone-can-spend), could not
// say how a proof was spent (NUT-07), or its signatures could not be checked offline (NUT-12).
const NEEDED_NUTS = [7, 10, 11, 12]

/** Reads a kind-7117 lock: job, provider, mint and proofs, or why it is malformed. */
export function readEscrowLock(e: NostrEvent): EscrowLock | Rejection {
  if (e.kind !== ESCROW_LOCK) return bad(`a lock is kind ${ESCROW_LOCK}`)
  const one = (name: string, what: string): string | Rejection => {
    const values = e.tags.filter(t => t[0] === name).map(t => t[1])
    if (values.length !== 1) return bad(`exactly one ${name} tag naming the ${what}`)
    return isHex64(values[0]) ? values[0] : bad(`the ${name} tag is not a 64-hex ${what}`)
  }
  const job = one('e', 'job request')
  if (typeof job !== 'string') return job
  const provider = one('p', 'provider')
  if (typeof provider !== 'string') return provider
  const mint = mintUrl(e.tags.find(t => t[0] === 'u')?.[1])
  if (mint === undefined) return bad('a u tag with the mint URL')
  const proofs = readProofTags(e, bad)
  return 'prefix' in proofs ? proofs : { job, provider, mint, proofs }
}

const xOnly = (key: string | undefined) => compressedKey(key)?.slice(2)

/** The keys of an accepted lock, x-only: the provider's 10019 key (data) and the relay's (the co-signer beside the customer). */
export function lockParties(secret: string, customer: string): { dataKey: string; relayKey: string } {
  const lock = p2pkLock(secret)
  const cosigners = (lock?.tags.find(t => t[0] === 'pubkeys')?.slice(1) ?? []).map(xOnly)
  return { dataKey: xOnly(lock?.data) ?? '', relayKey: cosigners.find(k => k !== customer) ?? '' }
}

/** Why a proof's lock is not the escrow the terms require, or undefined. */
function lockRefusal(secret: string, t: LockTerms, providerKey: string): string | undefined {
  const lock = p2pkLock(secret)
  if (!lock) return 'is not a NUT-10 P2PK secret'
  if (xOnly(lock.data) !== providerKey) return 'is not locked to the provider’s 10019 key'
  const tag = (name: string) => lock.tags.find(x => x[0] === name)?.slice(1)
  if (tag('sigflag')?.[0] !== 'SIG_ALL') return 'must have sigflag SIG_ALL (signatures bound to the outputs)'
  if (tag('n_sigs')?.[0] !== '2') return 'must need n_sigs 2'
  const cosigners = (tag('pubkeys') ?? []).map(xOnly)
  if (cosigners.length !== 2 || !cosigners.includes(t.customer) || !cosigners.includes(t.relay))
    return 'must have pubkeys [customer, relay] beside the provider'
  if (!Number.isSafeInteger(Number(tag('locktime')?.[0])))
    return 'has no locktime (the customer could never get a refund)'
  const refund = (tag('refund') ?? []).map(xOnly)
  if (refund.length !== 1 || refund[0] !== t.customer) return 'must have refund [customer]'
  const refundSigs = tag('n_sigs_refund')?.[0]
  if (refundSigs !== undefined && refundSigs !== '1') return 'must let the customer refund alone (n_sigs_refund 1)'
  return undefined
}

/** The lock's locktime and NUT-11 tags, which SIG_ALL requires to be the same on every proof. */
const lockTags = (secret: string) => JSON.stringify(p2pkLock(secret)?.tags)

/**
 * Checks a lock against the terms: the provider's 10019 key and mints, the operator's mints, the lock's
 * structure on every proof, the mint's NUTs and the proofs' DLEQs; returns its value after input fees. A
 * keyset not known yet is returned to fetch first. What depends on the job (its deadline, the price, proofs
 * pledged to other jobs) is the market's to judge: `jobTermsRefusal`.
 */
export function checkEscrowLock(lock: EscrowLock, t: LockTerms): CheckedLock | MissingKeyset | MissingInfo | Rejection {
  const mintWhy = lockMintRefusal(lock.mint, t.provider, t.allowedMints)
  if (mintWhy) return mintWhy
  // lockMintRefusal refuses a lock to a provider with no 10019.
  const providerKey = t.provider!.p2pk.slice(2)
  const ys: string[] = []
  for (const [i, p] of lock.proofs.entries()) {
    const refusal = lockRefusal(p.secret, t, providerKey)
    if (refusal) return bad(`proof ${i + 1} ${refusal}`)
    if (i > 0 && lockTags(p.secret) !== lockTags(lock.proofs[0]!.secret))
      return bad(`proof ${i + 1} has other lock tags than proof 1 (SIG_ALL needs the same on every proof)`)
    if (!p.dleq) return bad(`proof ${i + 1} has no DLEQ`)
    const y = proofY(p.secret)
    if (ys.includes(y)) return bad(`proof ${i + 1} repeats an earlier proof’s secret`)
    ys.push(y)
  }
  if (!t.mintNuts) return { missingInfo: lock.mint }
  const nuts = t.mintNuts
  const missing = NEEDED_NUTS.find(n => !nuts.has(n))
  if (missing !== undefined) return bad(`the mint does not support NUT-${missing}`)
  const minted = mintedSats(lock.mint, lock.proofs, t.keyset, bad)
  if (typeof minted !== 'number') return minted
  const sats = minted - inputFeeSats(lock.proofs, id => t.keyset(lock.mint, id)?.input_fee_ppk ?? 0)
  const locktime = Number(p2pkLock(lock.proofs[0]!.secret)!.tags.find(x => x[0] === 'locktime')![1])
  return { sats, locktime, ys }
}

/**
 * Why a lock may not use this mint: the provider has no 10019, does not list the mint, or the operator does
 * not allow it. Checked before anything is fetched from the mint, so a lock cannot make the relay ask a mint
 * it would refuse anyway.
 */
export function lockMintRefusal(
  mint: string,
  provider: LockTerms['provider'],
  allowedMints: readonly string[] | undefined,
): Rejection | undefined {
  if (!provider) return bad('the provider has no 10019 (nutzap info) naming a key and mints to lock to')
  if (!provider.mints.includes(mint)) return bad(`mint ${mint} is not among the provider’s 10019 mints`)
  if (allowedMints && !allowedMints.includes(mint)) return bad(`mint ${mint} is not allowed here`)
  return undefined
}

/**
 * Why a checked lock does not meet its job's terms: a locktime before the job's deadline plus the dispute
 * window and margin (the relay must be able to rule before the customer can take the refund alone), or a
 * value below the price.
 */
export function jobTermsRefusal(
  lock: Pick<CheckedLock, 'sats' | 'locktime'>,
  terms: { readonly minLocktime: number; readonly priceSats: number },
): Rejection | undefined {
  if (lock.locktime < terms.minLocktime)
    return bad(`locktime ${lock.locktime} is before ${terms.minLocktime} (job deadline + dispute window + margin)`)
  if (lock.sats < terms.priceSats)
    return bad(`the lock is worth ${lock.sats} sats after the mint’s input fees, below the price of ${terms.priceSats}`)
  return undefined
}
