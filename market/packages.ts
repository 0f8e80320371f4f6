// SIG_ALL swap packages carried by escrow actions (kind 7118, DESIGN §7.5): the provider's claim, the customer's
// release or refund, the relay's ruling. A package is a swap of the escrowed proofs to someone's blinded outputs
// plus the signatures gathered so far; SIG_ALL binds every signature to those outputs, so signatures may be public.
// Pure: the escrowed proofs and their keysets' fees come from the caller. The relay cannot see whose outputs a
// package holds (they are blinded): it binds a package to the author of the event that carries it.
import { SigAll, schnorrVerifyDigest, type SigAllSigningPackage } from '@cashu/cashu-ts'
import { reject, type Rejection } from '../nips/nip01.js'
import { compressedKey, p2pkLock, proofY, type CashuProof } from '../nips/nip61.js'

export type { SigAllSigningPackage }

/** What a package must spend: the escrowed proofs, and the mint's input fee (NUT-02) for spending them all. */
export type Escrowed = {
  readonly proofs: readonly CashuProof[]
  readonly feeSats: number
}

/** A package that passed: the lock keys (x-only hex) whose signatures it carries, each once. */
export type CheckedPackage = { readonly signers: readonly string[] }

/** The NUT-11 path a set of signers opens: `anyone` when the locktime passed and the lock names no refund key. */
export type SpendPath = 'main' | 'refund' | 'anyone'

const bad = (reason: string) => reject('invalid', `escrow: ${reason}`)
const xOnly = (key: string | undefined) => compressedKey(key)?.slice(2)

/** Reads a serialized SIG_ALL package ("sigallA…"); only swaps, since escrow actions never melt. */
export function readPackage(serialized: string): SigAllSigningPackage | Rejection {
  let pkg: SigAllSigningPackage
  try {
    pkg = SigAll.deserializePackage(serialized)
  } catch (e) {
    return bad(`not a SIG_ALL package (${e instanceof Error ? e.message : String(e)})`)
  }
  return pkg.type === 'swap' ? pkg : bad('the package must be a swap')
}

/** Why the package's inputs are not exactly the escrowed proofs (same secret and C, each once), or undefined. */
function inputsRefusal(pkg: SigAllSigningPackage, proofs: readonly CashuProof[]): string | undefined {
  if (pkg.inputs.length === 0) return 'the package spends nothing'
  // Counted before any input is hashed: a package of many inputs must not cost the writer a hash each.
  if (pkg.inputs.length > proofs.length)
    return `the package spends ${pkg.inputs.length} inputs; the escrow holds ${proofs.length}`
  const escrowed = new Map(proofs.map(p => [proofY(p.secret), p.C]))
  const seen = new Set<string>()
  for (const [i, input] of pkg.inputs.entries()) {
    const y = proofY(input.secret)
    if (escrowed.get(y) !== input.C) return `package input ${i + 1} is not an escrowed proof`
    if (seen.has(y)) return `package input ${i + 1} repeats an earlier input`
    seen.add(y)
  }
  return seen.size === escrowed.size ? undefined : 'the package does not spend every escrowed proof'
}

/** Why the outputs do not add up to the inputs less the mint's fee, or undefined. */
function balanceRefusal(pkg: SigAllSigningPackage, e: Escrowed): string | undefined {
  if (pkg.outputs.some(o => o.amount.isZero())) return 'a package output has amount 0'
  const inputs = e.proofs.reduce((sum, p) => sum + p.amount, 0)
  const fee = e.feeSats
  const outputs = pkg.outputs.reduce((sum, o) => sum + o.amount.toBigInt(), 0n)
  return outputs === BigInt(inputs - fee) ? undefined : `package outputs sum ${outputs} but must be ${inputs - fee}`
}

/** Every key of the lock, x-only: data, pubkeys and refund. */
function lockKeys(secret: string): string[] {
  const lock = p2pkLock(secret)
  const tagged = (name: string) => lock?.tags.find(t => t[0] === name)?.slice(1) ?? []
  const keys = [lock?.data, ...tagged('pubkeys'), ...tagged('refund')].map(xOnly)
  return [...new Set(keys.filter(k => k !== undefined))]
}

/**
 * Checks a package against the escrow: its inputs are exactly the escrowed proofs, its outputs balance after the
 * fee, and every signature is a lock key's BIP-340 signature over the SIG_ALL digest, recomputed here (v0, the
 * transcript CDK ≥ 0.14 and Nutshell > 0.20.2 check). Returns the keys that signed.
 */
export function checkPackage(pkg: SigAllSigningPackage, e: Escrowed): CheckedPackage | Rejection {
  const inputs = inputsRefusal(pkg, e.proofs)
  if (inputs) return bad(inputs)
  const balance = balanceRefusal(pkg, e)
  if (balance) return bad(balance)
  const signatures = pkg.witness?.signatures ?? []
  const keys = lockKeys(e.proofs[0]!.secret)
  // Each signature is checked against each key: more signatures than keys can only be padding, refused unread.
  if (signatures.length > keys.length)
    return bad(`the package carries ${signatures.length} signatures; the lock has ${keys.length} keys`)
  const signers: string[] = []
  for (const [i, key] of matchSigners(pkg, e.proofs[0]!.secret, signatures).entries()) {
    if (!key) return bad(`package signature ${i + 1} is not a lock key’s signature over these inputs and outputs`)
    if (!signers.includes(key)) signers.push(key)
  }
  return { signers }
}

/**
 * For each signature, the key of the lock on `secret` that made it over the package's SIG_ALL digest
 * (recomputed here, v0), or undefined: so a witness seen at the mint can be matched to a package.
 */
export function matchSigners(
  pkg: SigAllSigningPackage,
  secret: string,
  signatures: readonly string[],
): (string | undefined)[] {
  const digest = SigAll.computeDigests(pkg.inputs, pkg.outputs).v0
  const keys = lockKeys(secret)
  return signatures.map(sig => keys.find(k => schnorrVerifyDigest(sig, digest, k)))
}

/** The relay's co-signature on a package it rules for, serialized for its 7118 ruling. */
export function coSign(pkg: SigAllSigningPackage, secretKeyHex: string): string {
  return SigAll.serializePackage(SigAll.signPackage(pkg, secretKeyHex))
}

/**
 * The NUT-11 path that `signers` (x-only hex) open on a proof's lock at unix time `now`, or undefined: the main
 * path (n_sigs of data and pubkeys) always; once the locktime is reached, also the refund path (n_sigs_refund of
 * refund), or anyone when there is no refund key. The mint judges by its own clock: leave a margin.
 */
export function spendPath(secret: string, signers: readonly string[], now: number): SpendPath | undefined {
  const lock = p2pkLock(secret)
  if (!lock) return undefined
  const tag = (name: string) => lock.tags.find(t => t[0] === name)?.slice(1) ?? []
  // At least one signature, as cashu-ts and the mints count.
  const count = (name: string) => Math.max(Number(tag(name)[0] ?? 1), 1)
  const signed = (keys: (string | undefined)[]) => new Set(keys.map(xOnly).filter(k => signers.includes(k!))).size
  if (signed([lock.data, ...tag('pubkeys')]) >= count('n_sigs')) return 'main'
  const locktime = Number(tag('locktime')[0])
  if (!Number.isFinite(locktime) || now < locktime) return undefined
  const refund = tag('refund')
  if (refund.length === 0) return 'anyone'
  return signed(refund) >= count('n_sigs_refund') ? 'refund' : undefined
}
