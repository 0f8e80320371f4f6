// NIP-61 nutzaps, read and checked offline the way NIP-61 asks observers to: the recipient's 10019 lists the
// mint, every proof is P2PK-locked to the 10019 key, and every proof carries a DLEQ valid against the mint's keyset.
// Pure: the keyset comes from the caller, which fetches and caches it (market/mint-client.ts).
// Offline checks prove the mint signed the proofs, not that they are unspent (that needs NUT-07 checkstate).
import { Amount, hashToCurve, hasValidDleq, normalizeMintUrl, parseP2PKSecret } from '@cashu/cashu-ts'
import { isHex64, reject, tagValue, type NostrEvent, type Rejection } from './nip01.js'

export const NUTZAP = 9321
export const NUTZAP_INFO = 10019

/** How a user receives nutzaps (kind 10019). */
export type NutzapInfo = {
  /** The P2PK key nutzaps must be locked to, as 33-byte compressed hex. */
  readonly p2pk: string
  /** Accepted mints, normalised as cashu-ts normalizeMintUrl does. */
  readonly mints: readonly string[]
}

/** A Cashu proof as a `proof` tag carries it (NUT-00, with the NUT-12 DLEQ a nutzap must include). */
export type CashuProof = {
  readonly id: string
  readonly amount: number
  readonly secret: string
  readonly C: string
  readonly dleq?: { readonly e: string; readonly s: string; readonly r?: string }
}

/** What a kind-9321 event claims, before any check. */
export type Nutzap = {
  /** The `u` tag, normalised. */
  readonly mint: string
  /** The single `p`: who is paid. */
  readonly recipient: string
  /** The nutzapped event, when there is one. */
  readonly e?: string
  readonly proofs: readonly CashuProof[]
}

/** A mint keyset (NUT-01): public key per amount, as compressed hex, and its input fee (NUT-02) when any. */
export type Keyset = {
  readonly id: string
  readonly unit: string
  readonly keys: Readonly<Record<string, string>>
  readonly input_fee_ppk?: number
}

/** What a checked nutzap proves: its value, and the Y of each proof (hash_to_curve(secret)), by which a proof counts once. */
export type NutzapValue = { readonly sats: number; readonly ys: readonly string[] }

/** The keyset a proof names is not known yet: fetch it and check again. */
export type MissingKeyset = { readonly missingKeyset: { readonly mint: string; readonly id: string } }

const bad = (reason: string) => reject('invalid', `nutzap: ${reason}`)
const HEX66 = /^0[23][0-9a-f]{64}$/

/** A P2PK key as 33-byte compressed hex: NIP-61 lockers put "02" before a 32-byte x-only key. */
export function compressedKey(key: string | undefined): string | undefined {
  const k = key?.toLowerCase()
  if (k === undefined) return undefined
  if (isHex64(k)) return `02${k}`
  return HEX66.test(k) ? k : undefined
}

/** The mint URL in the one form cashu-ts compares (lowercase host, no trailing slash); undefined if invalid. */
export function mintUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined
  try {
    return normalizeMintUrl(url)
  } catch {
    return undefined
  }
}

/** The nutzap settings of a kind-10019 event; undefined when it is another kind or has no usable `pubkey`. */
export function readNutzapInfo(e: NostrEvent): NutzapInfo | undefined {
  if (e.kind !== NUTZAP_INFO) return undefined
  const p2pk = compressedKey(tagValue(e, 'pubkey'))
  if (p2pk === undefined) return undefined
  const mints = e.tags.filter(t => t[0] === 'mint').map(t => mintUrl(t[1]))
  return { p2pk, mints: [...new Set(mints.filter(m => m !== undefined))] }
}

const isHexString = (v: unknown, length?: number): v is string =>
  typeof v === 'string' && /^[0-9a-f]+$/.test(v) && (length === undefined || v.length === length)

/** A proof from the JSON of a `proof` tag; undefined when it is not one. */
function parseProof(json: string): CashuProof | undefined {
  let p: unknown
  try {
    p = JSON.parse(json)
  } catch {
    return undefined
  }
  if (typeof p !== 'object' || p === null) return undefined
  const { id, amount, secret, C, dleq } = p as Record<string, unknown>
  if (!isHexString(id) || typeof secret !== 'string' || typeof C !== 'string' || !HEX66.test(C)) return undefined
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) return undefined
  if (dleq === undefined) return { id, amount, secret, C }
  if (typeof dleq !== 'object' || dleq === null) return undefined
  const { e, s, r } = dleq as Record<string, unknown>
  if (!isHexString(e, 64) || !isHexString(s, 64) || (r !== undefined && !isHexString(r, 64))) return undefined
  return { id, amount, secret, C, dleq: r === undefined ? { e, s } : { e, s, r } }
}

/**
 * The proofs of an event's `proof` tags (nutzaps, escrow locks), or why there are none or one is malformed,
 * worded by `refuse` for the caller's kind.
 */
export function readProofTags(e: NostrEvent, refuse: (reason: string) => Rejection): CashuProof[] | Rejection {
  const tags = e.tags.filter(t => t[0] === 'proof')
  if (tags.length === 0) return refuse('no proof tag')
  const proofs: CashuProof[] = []
  for (const [i, tag] of tags.entries()) {
    const proof = parseProof(tag[1] ?? '')
    if (!proof) return refuse(`proof ${i + 1} is not a JSON Cashu proof {id, amount, secret, C, dleq}`)
    proofs.push(proof)
  }
  return proofs
}

/** Reads a kind-9321 nutzap: its mint, recipient, zapped event and proofs, or why it is malformed. */
export function readNutzap(e: NostrEvent): Nutzap | Rejection {
  if (e.kind !== NUTZAP) return bad(`must be kind ${NUTZAP}`)
  const proofs = readProofTags(e, bad)
  if ('prefix' in proofs) return proofs
  const u = tagValue(e, 'u')
  if (u === undefined) return bad('no u tag naming the mint')
  const mint = mintUrl(u)
  if (mint === undefined) return bad('u tag is not a valid mint URL')
  const ps = e.tags.filter(t => t[0] === 'p')
  if (ps.length === 0) return bad('no p tag naming the recipient')
  if (ps.length > 1) return bad('more than one p tag')
  const recipient = ps[0][1]
  if (!isHex64(recipient)) return bad('p tag is not a pubkey')
  const zapped = tagValue(e, 'e')
  return { mint, recipient, ...(zapped ? { e: zapped } : {}), proofs }
}

// NUT-11 tags that let someone other than the data key spend, or let anyone spend once a locktime passes.
const SHARED_SPEND = ['pubkeys', 'refund', 'locktime']

/** The data key and tags of a NUT-11 P2PK secret; undefined for any other secret. */
export function p2pkLock(secret: string): { data: string; tags: string[][] } | undefined {
  try {
    // Throws on a malformed NUT-10 secret, duplicated NUT-11 tags or an unknown sigflag: mints refuse such proofs.
    const [kind, d] = parseP2PKSecret(secret)
    return kind === 'P2PK' ? { data: d.data, tags: d.tags ?? [] } : undefined
  } catch {
    return undefined
  }
}

/** Why the proof's secret is not a lock that the 10019 key alone can spend, or undefined. */
function lockRefusal(secret: string, p2pk: string): string | undefined {
  const lock = p2pkLock(secret)
  if (!lock) return 'is not a NUT-10 P2PK secret'
  // x-only comparison: BIP-340 signatures ignore the 02/03 prefix, so either form is the same spender.
  if (compressedKey(lock.data)?.slice(2) !== p2pk.slice(2))
    return 'is locked to another key than the recipient’s 10019 pubkey'
  const shared = lock.tags.find(t => SHARED_SPEND.includes(t[0]) || (t[0] === 'n_sigs' && t[1] !== '1'))
  if (shared) return `lock has a ${shared[0]} tag: the recipient’s key alone must spend it`
  return undefined
}

/**
 * Checks a nutzap against the recipient's 10019 and the mint's keysets: the mint is listed, every proof is locked to
 * the 10019 key alone, is in a sat keyset and has a valid DLEQ (NIP-61: observers MUST check it). `info` must be the
 * 10019 of `nutzap.recipient`. Returns the value and proof identities, a keyset to fetch first, or why it is invalid.
 */
export function checkNutzap(
  nutzap: Nutzap,
  info: NutzapInfo,
  keyset: (mint: string, id: string) => Keyset | undefined,
): NutzapValue | MissingKeyset | Rejection {
  if (!info.mints.includes(nutzap.mint)) return bad(`mint ${nutzap.mint} is not among the recipient’s 10019 mints`)
  // Offline checks of every proof first, so a nutzap that fails them never costs a keyset fetch.
  const ys: string[] = []
  for (const [i, p] of nutzap.proofs.entries()) {
    const refusal = lockRefusal(p.secret, info.p2pk)
    if (refusal) return bad(`proof ${i + 1} ${refusal}`)
    if (!p.dleq) return bad(`proof ${i + 1} has no DLEQ`)
    const y = proofY(p.secret)
    if (ys.includes(y)) return bad(`proof ${i + 1} repeats an earlier proof’s secret`)
    ys.push(y)
  }
  const sats = mintedSats(nutzap.mint, nutzap.proofs, keyset, bad)
  return typeof sats === 'number' ? { sats, ys } : sats
}

/** NUT-02: what a swap spending `proofs` costs, the sum of their keysets' input fees (ppk) rounded up to sats. */
export const inputFeeSats = (proofs: readonly CashuProof[], feePpk: (keysetId: string) => number) =>
  Math.ceil(proofs.reduce((sum, p) => sum + feePpk(p.id), 0) / 1000)

/** The Y of a proof (hash_to_curve of its secret, compressed hex): how a mint and the market know a proof. */
export const proofY = (secret: string) => hashToCurve(new TextEncoder().encode(secret)).toHex(true)

/**
 * The sats of proofs the mint provably signed: each in a sat keyset with a key for its amount and a DLEQ valid
 * against it. A keyset not known yet is returned to fetch first; `bad` words the refusal for the caller's kind.
 */
export function mintedSats(
  mint: string,
  proofs: readonly CashuProof[],
  keyset: (mint: string, id: string) => Keyset | undefined,
  bad: (reason: string) => Rejection,
): number | MissingKeyset | Rejection {
  let sats = 0
  for (const [i, p] of proofs.entries()) {
    const ks = keyset(mint, p.id)
    if (!ks) return { missingKeyset: { mint, id: p.id } }
    if (ks.unit !== 'sat') return bad(`proof ${i + 1} is from a ${ks.unit} keyset, not sat`)
    if (ks.keys[String(p.amount)] === undefined)
      return bad(`proof ${i + 1} amount ${p.amount} has no key in its keyset`)
    if (!hasValidDleq({ ...p, amount: Amount.from(p.amount) }, ks)) return bad(`proof ${i + 1} has an invalid DLEQ`)
    sats += p.amount
  }
  return Number.isSafeInteger(sats) ? sats : bad('total amount is too large')
}
