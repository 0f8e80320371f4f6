// Escrow actions (kind 7118, DESIGN §7.5), pure: what each party may do to an escrowed job's lock, and when.
// The provider claims with a SIG_ALL package paying itself; the customer releases (co-signs), refunds or
// disputes; the relay rules (co-signs one package) and records how the proofs were spent. Every action names
// the job (`e`) and its `action`; a package (`package`, "sigallA…") is checked by market/packages.ts against
// the escrowed proofs first, and the keys that signed it are what these rules read.
import { isHex64, reject, tagValue, type NostrEvent, type Rejection } from '../nips/nip01.js'
import { shortId } from './jobs.js'
import { readPackage, type SigAllSigningPackage, type SpendPath } from './packages.js'

export const ESCROW_ACTION = 7118

const ACTIONS = ['claim', 'release', 'refund', 'dispute', 'ruling', 'spent'] as const
export type ActionName = (typeof ACTIONS)[number]

/**
 * `held`: locked, nothing decided; `disputed`: the customer disputes the delivery (the operator rules);
 * `released`: the customer co-signed the provider's claim; `ruled`: the relay co-signed a claim or refund;
 * `settled` / `refunded`: the proofs were spent to the provider / back to the customer (seen at the mint).
 */
export type EscrowState = 'held' | 'disputed' | 'released' | 'ruled' | 'settled' | 'refunded'

export type EscrowAction = {
  readonly job: string
  readonly action: ActionName
  /** The package as published, and read. */
  readonly wire: string | undefined
  readonly pkg: SigAllSigningPackage | undefined
  /** A ruling's side: the claim (provider paid) or the refund. */
  readonly ruling: 'claim' | 'refund' | undefined
  /** A `spent` record: who got the proofs, by which path, and the lock keys whose signatures were seen. */
  readonly outcome: 'settled' | 'refunded' | undefined
  readonly path: SpendPath | undefined
}

/** The escrow as the rules see it. Keys are x-only hex. */
export type EscrowView = {
  readonly state: EscrowState
  readonly customer: string
  /** The provider's Nostr key (who may claim) and the lock's key for it (its 10019 key, whose signature counts). */
  readonly provider: string
  readonly dataKey: string
  /** The relay's key as the lock names it: the only author of rulings and spent records. */
  readonly relayKey: string
  /** The escrowed provider delivered the job. */
  readonly delivered: boolean
}

const bad = (reason: string) => reject('invalid', `escrow: ${reason}`)
const NEEDS_PACKAGE: readonly ActionName[] = ['claim', 'release', 'refund', 'ruling']

/** Reads a kind-7118 action, or the first rule its shape breaks. */
export function readEscrowAction(e: NostrEvent): EscrowAction | Rejection {
  const jobs = e.tags.filter(t => t[0] === 'e')
  if (jobs.length !== 1 || !isHex64(jobs[0]![1])) return bad('an action needs exactly one e tag naming the job')
  const action = tagValue(e, 'action') as ActionName | undefined
  if (!action || !ACTIONS.includes(action)) return bad(`the action tag must be one of ${ACTIONS.join(', ')}`)
  const wire = tagValue(e, 'package')
  if (wire === undefined && NEEDS_PACKAGE.includes(action)) return bad(`a ${action} needs a package tag`)
  const pkg = wire === undefined ? undefined : readPackage(wire)
  if (pkg && 'prefix' in pkg) return pkg
  const ruling = tagValue(e, 'ruling')
  if (action === 'ruling' && ruling !== 'claim' && ruling !== 'refund')
    return bad('a ruling needs a ruling tag: claim or refund')
  const outcome = tagValue(e, 'outcome')
  const path = tagValue(e, 'path')
  if (
    action === 'spent' &&
    (!['settled', 'refunded'].includes(outcome ?? '') || !['main', 'refund'].includes(path ?? ''))
  )
    return bad('a spent record needs outcome settled|refunded and path main|refund')
  return {
    job: jobs[0]![1]!,
    action,
    wire,
    pkg,
    ruling: ruling as EscrowAction['ruling'],
    outcome: outcome as EscrowAction['outcome'],
    path: path as SpendPath | undefined,
  }
}

const OPEN: readonly EscrowState[] = ['held', 'disputed']
const VERBS: Record<ActionName, string> = {
  claim: 'claim',
  release: 'release',
  refund: 'refund',
  dispute: 'dispute',
  ruling: 'rule on',
  spent: 'record the spending of',
}

/**
 * Why `author` may not take this action on the escrow, given the keys that signed its package (undefined: it
 * may). These rules do not depend on the clock or the operator's settings, so a rebuild applies them too.
 */
export function actionRefusal(
  a: EscrowAction,
  author: string,
  x: EscrowView,
  signers: readonly string[],
): Rejection | undefined {
  const job = shortId(a.job)
  const only = (who: string, what: string) =>
    author === who ? undefined : reject('restricted', `only ${what} of job ${job} can ${VERBS[a.action]} its escrow`)
  const signed = (keys: string[], what: string) =>
    keys.every(k => signers.includes(k)) ? undefined : bad(`a ${a.action} package must carry ${what}`)
  if (x.state === 'settled' || x.state === 'refunded')
    return reject('restricted', `the escrow of job ${job} is already ${x.state}`)
  if (a.action === 'spent') return only(x.relayKey, 'the relay')
  if (!OPEN.includes(x.state)) return reject('restricted', `the escrow of job ${job} is already ${x.state}`)
  switch (a.action) {
    case 'claim':
      return (
        only(x.provider, 'the escrowed provider') ??
        (x.delivered ? undefined : reject('restricted', `deliver job ${job} before claiming its escrow`)) ??
        signed([x.dataKey], "the provider's signature (its 10019 key)")
      )
    case 'release':
      return (
        only(x.customer, 'the customer') ??
        (x.delivered ? undefined : reject('restricted', `job ${job} is not delivered: nothing to release`)) ??
        signed([x.dataKey, x.customer], "the provider's and the customer's signatures")
      )
    case 'refund':
      return (
        only(x.customer, 'the customer') ??
        (x.delivered && x.state !== 'disputed'
          ? reject('restricted', `job ${job} was delivered: dispute it within the window, or release`)
          : undefined) ??
        signed([x.customer], "the customer's signature")
      )
    case 'dispute':
      return (
        only(x.customer, 'the customer') ??
        (x.delivered ? undefined : reject('restricted', `job ${job} is not delivered: refund instead`)) ??
        (x.state === 'disputed' ? reject('restricted', `job ${job} is already disputed`) : undefined) ??
        (a.pkg ? signed([x.customer], "the customer's signature") : undefined)
      )
    case 'ruling':
      return (
        only(x.relayKey, 'the relay') ??
        (a.ruling === 'claim'
          ? x.delivered
            ? signed([x.dataKey, x.relayKey], "the provider's and the relay's signatures")
            : reject('restricted', `job ${job} is not delivered: no claim to rule for`)
          : signed([x.customer, x.relayKey], "the customer's and the relay's signatures"))
      )
  }
}

/** Why a dispute comes too late: the window runs from the delivery, by the relay's clock. */
export function disputeTooLate(deliveredAt: number, window: number, now: number, job: string): Rejection | undefined {
  return now > deliveredAt + window
    ? reject('restricted', `the dispute window of job ${shortId(job)} closed at ${deliveredAt + window}`)
    : undefined
}
