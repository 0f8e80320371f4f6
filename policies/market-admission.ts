// Market admission (DESIGN §7.2, §7.4): the market checks that need signatures or facts from outside,
// before the writer's fold. The fold then trusts what passed here, on a rebuild as well:
// - a result may carry its signed request in a `request` tag, so a job posted on another relay can be
//   delivered here; that request must be a valid signed job request;
// - a zap receipt to a provider is checked in full against the key its LNURL server declares (resolved
//   from the provider's lightning address and cached); a receipt that fails is refused, so a forged one
//   never counts as payment or reputation;
// - a nutzap to a key with a 10019 here is checked offline (NIP-61: lock, mint list, DLEQ against the
//   mint's keyset, fetched once); one that fails is refused.
// - a pay-to-decrypt result (21117) must commit to its key in its invoice (market/sealed.ts); it is then kept,
//   though ephemeral, for the writer to judge against its job.
// What a receipt or nutzap proves goes to the writer as a fact (market/fold.ts PaymentFact).
import type { Config } from '../config/schema.js'
import { checkEventShape, checkId, reject, tagValue, type NostrEvent } from '../nips/nip01.js'
import { checkZapReceipt, ZapReceipt } from '../nips/nip57.js'
import { checkNutzap, mintUrl, NUTZAP, readNutzap, type CashuProof } from '../nips/nip61.js'
import { checkEscrowLock, ESCROW_LOCK, lockMintRefusal, readEscrowLock } from '../market/escrow.js'
import { embeddedRequest, isJobRequestKind, isJobResultKind } from '../nips/nip90.js'
import { readSealedResult, SEALED_RESULT } from '../market/sealed.js'
import type { PaymentFact } from '../market/fold.js'
import { remember } from '../market/remember.js'
import type { Policy, PolicyCtx, PolicyDeps, VerifiedCheck } from './types.js'

/** The provider a zap receipt pays, unless it pays the relay (the zap gate's business). */
const zapRecipient = (e: NostrEvent, deps: PolicyDeps) => {
  const p = e.kind === ZapReceipt ? tagValue(e, 'p') : undefined
  return p === deps.relayPubkey ? undefined : p
}

// Job requests whose signature was verified here lately (results usually follow their request within
// seconds, often before it is committed).
const RECENT_REQUESTS = 20_000

function embeddedRequestCheck(
  e: NostrEvent,
  ctx: PolicyCtx,
  deps: PolicyDeps,
  recent: ReadonlyMap<string, true>,
): ReturnType<VerifiedCheck> {
  const req = embeddedRequest(e)
  if (req === undefined) return undefined
  if (req === null) return reject('invalid', 'the request tag must hold the job request as a JSON event')
  const bad = checkEventShape(req)
  if (bad) return reject('invalid', `the embedded request: ${bad.reason}`)
  const request = req as NostrEvent
  if (request.kind !== e.kind - 1000)
    return reject('invalid', `the embedded request must be kind ${e.kind - 1000} for a kind ${e.kind} result`)
  if (checkId(request)) return reject('invalid', 'the embedded request: id does not match its content')
  // The same id is the same content by the same author, whose signature on it was verified here: lately
  // (no store read), or when the job was stored.
  if (recent.has(request.id) || ctx.views.knownJob(request.id)) return undefined
  if (!deps.verify(request)) return reject('invalid', 'the embedded request: signature does not verify')
  return undefined
}

/** A nutzap the market can check (to a key whose 10019 it holds), or why a nutzap is malformed. */
function nutzapToWallet(e: NostrEvent, ctx: PolicyCtx) {
  if (e.kind !== NUTZAP) return undefined
  const nz = readNutzap(e)
  if ('prefix' in nz) return nz
  const info = ctx.views.wallet(nz.recipient)
  return info && { nz, info }
}

const keysetsOf = (proofs: readonly CashuProof[]) => [...new Set(proofs.map(p => p.id))]

/** Fetches the keysets `proofs` name and, for a lock, the mint's info, when not cached yet. */
function fetchMintFacts(deps: PolicyDeps, mint: string, proofs: readonly CashuProof[], info: boolean) {
  const missing = keysetsOf(proofs).filter(id => !deps.keysets.peek(mint, id))
  const fetching = missing.map(id => deps.keysets.fetch(mint, id))
  if (info && !deps.keysets.peekInfo(mint)) fetching.push(deps.keysets.fetchInfo(mint))
  return fetching.length === 0 ? undefined : Promise.all(fetching).then(() => undefined)
}

/**
 * An escrow lock checked against the provider's 10019, the operator's mints and the mint's keysets and info
 * (market/escrow.ts); what it proves goes to the fold, which judges it against the job. A lock the mint could
 * not be asked about is refused with `error:`: the customer can publish it again.
 */
function escrowCheck(
  e: NostrEvent,
  ctx: PolicyCtx,
  deps: PolicyDeps,
  allowedMints: readonly string[] | undefined,
): ReturnType<VerifiedCheck> {
  const lock = readEscrowLock(e)
  if ('prefix' in lock) return lock
  const info = deps.keysets.peekInfo(lock.mint)
  const v = checkEscrowLock(lock, {
    customer: e.pubkey,
    relay: deps.relayPubkey,
    provider: ctx.views.wallet(lock.provider),
    allowedMints,
    mintNuts: info && new Set(info.nuts),
    keyset: deps.keysets.peek,
  })
  if ('prefix' in v) return v
  if ('missingKeyset' in v || 'missingInfo' in v)
    return reject('error', 'escrow: the mint could not be reached to check the lock; try again')
  return { facts: { escrow: { job: lock.job, provider: lock.provider, mint: lock.mint, ...v } } }
}

export const marketAdmission: Policy = {
  name: 'market',
  nips: [57, 90],
  antiSpam: false,
  door: false,
  enabled: (cfg: Config) => cfg.market.enabled,
  make: (cfg: Config, deps: PolicyDeps) => {
    const recentRequests = new Map<string, true>()
    const mints = cfg.market.mints.flatMap(m => mintUrl(m) ?? [])
    const allowedMints = mints.length > 0 ? mints : undefined
    return {
      prepare: (e, ctx) => {
        const nutzap = nutzapToWallet(e, ctx)
        // Only mints the checks would accept are asked: the sender of a nutzap or lock names the mint.
        if (nutzap && !('prefix' in nutzap))
          return nutzap.info.mints.includes(nutzap.nz.mint)
            ? fetchMintFacts(deps, nutzap.nz.mint, nutzap.nz.proofs, false)
            : undefined
        const lock = e.kind === ESCROW_LOCK ? readEscrowLock(e) : undefined
        if (lock)
          return 'prefix' in lock || lockMintRefusal(lock.mint, ctx.views.wallet(lock.provider), allowedMints)
            ? undefined
            : fetchMintFacts(deps, lock.mint, lock.proofs, true)
        const recipient = zapRecipient(e, deps)
        if (recipient === undefined) return undefined
        const unknown = ctx.views.lightningAddresses(recipient).filter(a => deps.lnurl.peek(a) === undefined)
        // A server that cannot be reached leaves the receipt unchecked: stored, counting for nothing.
        return unknown.length === 0
          ? undefined
          : Promise.all(unknown.map(a => deps.lnurl.resolve(a).catch(() => undefined))).then(() => undefined)
      },
      verified: (e, ctx) => {
        if (e.kind === ESCROW_LOCK) return escrowCheck(e, ctx, deps, allowedMints)
        // A sealed result is ephemeral, but kept while its job waits for the key (the writer judges the job).
        if (e.kind === SEALED_RESULT) {
          const sealed = readSealedResult(e)
          return 'prefix' in sealed ? sealed : { keep: true }
        }
        if (isJobRequestKind(e.kind)) {
          remember(recentRequests, e.id, true, RECENT_REQUESTS)
          return undefined
        }
        if (isJobResultKind(e.kind)) return embeddedRequestCheck(e, ctx, deps, recentRequests)
        const nutzap = nutzapToWallet(e, ctx)
        if (nutzap) {
          if ('prefix' in nutzap) return nutzap
          const { nz, info } = nutzap
          const v = checkNutzap(nz, info, deps.keysets.peek)
          // A keyset the mint would not give leaves the nutzap unchecked: stored, counting for nothing.
          if ('missingKeyset' in v) return undefined
          if ('prefix' in v) return v
          const payments = v.ys.map((ref, i): PaymentFact => ({
            ref,
            via: 'nutzap',
            recipient: nz.recipient,
            payer: e.pubkey,
            zapped: nz.e,
            msats: nz.proofs[i]!.amount * 1000,
          }))
          return { facts: { payments } }
        }
        const recipient = zapRecipient(e, deps)
        if (recipient === undefined) return undefined
        const signers = ctx.views.lightningAddresses(recipient).flatMap(a => deps.lnurl.peek(a) ?? [])
        if (signers.length === 0) return undefined
        const p = checkZapReceipt(e, { signers: new Set(signers), verify: deps.verify })
        if ('prefix' in p) return p
        const zap: PaymentFact = {
          ref: p.paymentHash,
          via: 'zap',
          recipient: p.recipient,
          payer: p.sender,
          zapped: p.e,
          msats: Number(p.msats),
        }
        return { facts: { payments: [zap] } }
      },
    }
  },
}
