// Proofs between cashu-ts (amounts as Amount) and JSON (amounts as numbers): the wallet file and `proof` tags
// (NIP-61 nutzaps, escrow locks) carry the same shape.
import { Amount, type Proof, type ProofLike } from '@cashu/cashu-ts'
import { readProofTags } from '../../nips/nip61.js'
import { reject } from '../../nips/nip01.js'
import { ClientError } from '../errors.js'
import type { StoredProof } from './file.js'

/** A proof as JSON keeps it: amount as a number, the DLEQ with its r; no witness. */
export const toStored = (p: ProofLike): StoredProof => ({
  id: p.id,
  amount: Amount.from(p.amount).toNumber(),
  secret: p.secret,
  C: p.C,
  ...(p.dleq ? { dleq: { e: p.dleq.e, s: p.dleq.s, ...(p.dleq.r ? { r: p.dleq.r } : {}) } } : {}),
})

/** A stored proof as cashu-ts takes it. */
export const fromStored = (p: StoredProof): Proof => ({
  id: p.id,
  amount: Amount.from(p.amount),
  secret: p.secret,
  C: p.C,
  ...(p.dleq ? { dleq: { ...p.dleq } } : {}),
})

/** A proof as a `proof` tag carries it (escrow locks, nutzaps). */
export const proofJson = (p: ProofLike): string => JSON.stringify(toStored(p))

/** The sats of some proofs. */
export const sumSats = (proofs: readonly (ProofLike | StoredProof)[]): number =>
  proofs.reduce((sum, p) => sum + Amount.from(p.amount).toNumber(), 0)

/** The proofs of an event's `proof` tags (a 7117 lock, a 9321 nutzap); a ClientError names the malformed one. */
export function proofsFromTags(tags: readonly (readonly string[])[]): Proof[] {
  const event = { kind: 0, tags: tags.map(t => [...t]), content: '', created_at: 0, pubkey: '', id: '', sig: '' }
  const proofs = readProofTags(event, reason => reject('invalid', reason))
  if ('prefix' in proofs) throw new ClientError(`proof tags: ${proofs.reason}`)
  return proofs.map(fromStored)
}

/** Proofs from `proof` tag JSON strings (a nutzap's), or a ClientError. */
export const proofsFromJson = (jsons: readonly string[]): Proof[] => proofsFromTags(jsons.map(j => ['proof', j]))
