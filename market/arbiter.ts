// The relay as escrow arbiter (DESIGN §7.5), pure: when its fixed rules call for a ruling, the ruling and the
// spent record it publishes (kind 7118, signed by the relay key), and how proofs seen spent at the mint were
// spent. market/escrow-arbiter.ts runs these on the relay's clock; `agora escrow rule` uses the same ruling.
import type { EventTemplate } from 'nostr-tools/pure'
import { ESCROW_ACTION, type EscrowState } from './actions.js'
import { lockParties } from './escrow.js'
import { matchSigners, readPackage, spendPath, type SigAllSigningPackage, type SpendPath } from './packages.js'

/** A live escrow as the arbiter reads it (market_escrows with its job and lock). */
export type LiveEscrow = {
  readonly job: string
  readonly customer: string
  readonly jobState: string
  readonly jobProvider: string | null
  /** The relay's clock when it received the job request: the deadline is job_ttl later. */
  readonly requestedAt: number
  readonly provider: string
  readonly mint: string
  readonly locktime: number
  readonly state: EscrowState
  /** The relay's clock at the escrowed provider's delivery. */
  readonly deliveredAt: number | null
  readonly claim: string | null
  readonly refund: string | null
  readonly spend: string | null
  /** The side a ruling took. */
  readonly ruling: Side | null
  /** The escrowed proofs' secrets. */
  readonly secrets: readonly string[]
}

export type Side = 'claim' | 'refund'
export type Due = { readonly side: Side; readonly wire: string; readonly reason: string }

/**
 * The ruling the fixed rules call for now, if any: the provider's claim once the dispute window after delivery
 * closed without a dispute; the customer's refund once it asked for it undelivered (which cancels the job). `late`:
 * one is due but the locktime is nearer than the margin, so the relay no longer rules (the customer can take the
 * refund alone at the locktime). A disputed escrow waits for the operator.
 */
export function rulingDue(
  x: LiveEscrow,
  now: number,
  rules: { readonly jobTtl: number; readonly disputeWindow: number; readonly escrowMargin: number },
): Due | { readonly late: Side } | undefined {
  if (x.state !== 'held') return undefined
  const delivered = (x.jobState === 'delivered' || x.jobState === 'paid') && x.jobProvider === x.provider
  let due: Due | undefined
  // Strictly after the window: its last second still belongs to a dispute (market/actions.ts disputeTooLate).
  if (delivered && x.claim && x.deliveredAt !== null && now > x.deliveredAt + rules.disputeWindow)
    due = { side: 'claim', wire: x.claim, reason: 'delivered, and the dispute window closed without a dispute' }
  else if (!delivered && x.refund && x.jobState === 'cancelled')
    due = {
      side: 'refund',
      wire: x.refund,
      reason:
        now >= x.requestedAt + rules.jobTtl
          ? 'no delivery by the deadline'
          : 'cancelled by the customer before delivery',
    }
  if (!due) return undefined
  return now > x.locktime - rules.escrowMargin ? { late: due.side } : due
}

type Parties = Pick<LiveEscrow, 'job' | 'provider' | 'customer'>

/** A relay-signed action on the escrow of a job, naming both parties so each can subscribe to it. */
const relayAction = (x: Parties, action: string, tags: string[][], content: string, now: number): EventTemplate => ({
  kind: ESCROW_ACTION,
  created_at: now,
  tags: [['e', x.job], ['action', action], ...tags, ['p', x.provider], ['p', x.customer]],
  content,
})

/** The relay's ruling: its co-signature on the package of the side it rules for, and why. */
export const rulingTemplate = (x: Parties, side: Side, coSigned: string, reason: string, now: number) =>
  relayAction(
    x,
    'ruling',
    [
      ['ruling', side],
      ['package', coSigned],
    ],
    reason,
    now,
  )

/** How the escrowed proofs were spent, as far as the mint's witnesses and the known packages show. */
export type Spent = { readonly outcome: 'settled' | 'refunded'; readonly path: SpendPath; readonly signers: string[] }

/** The signatures in a NUT-11 witness (JSON `{"signatures": [...]}`); none when it is not one. */
function witnessSignatures(witness: string | undefined): string[] {
  try {
    const sigs = (JSON.parse(witness ?? '') as { signatures?: unknown }).signatures
    return Array.isArray(sigs) ? sigs.filter((s): s is string => typeof s === 'string') : []
  } catch {
    return []
  }
}

/**
 * Reads how spent proofs were spent from their witnesses (SIG_ALL: the signatures sit on the first input). The
 * signatures are matched to the packages the relay knows (the release or ruling, the claim, the refund); the mint
 * accepted the spend, so signers that do not open the main path spent by the refund path. A spend whose package
 * the relay never saw: a single signature can only be the customer's refund after the locktime (the main path
 * needs two), two are the provider's and customer's own release. Settled when the provider's key signed. With no
 * witness at all (NUT-07 makes it optional), the escrow's own state says what was spendable (`now` against the
 * locktime, when nothing was).
 */
export function readSpent(x: LiveEscrow, witnesses: readonly (string | undefined)[], now: number): Spent {
  const signatures = [...new Set(witnesses.flatMap(witnessSignatures))]
  const secret = x.secrets[0] ?? ''
  const { dataKey } = lockParties(secret, x.customer)
  const packages = [x.spend, x.claim, x.refund].flatMap(w => {
    const pkg = w ? readPackage(w) : undefined
    return pkg && !('prefix' in pkg) ? [pkg as SigAllSigningPackage] : []
  })
  for (const pkg of packages) {
    const keys = matchSigners(pkg, secret, signatures)
    if (signatures.length === 0 || keys.some(k => k === undefined)) continue
    const signers = [...new Set(keys as string[])]
    const path = spendPath(secret, signers, Infinity) === 'main' ? 'main' : 'refund'
    return { outcome: signers.includes(dataKey) ? 'settled' : 'refunded', path, signers }
  }
  if (signatures.length === 1) return { outcome: 'refunded', path: 'refund', signers: [] }
  if (signatures.length > 1) return { outcome: 'settled', path: 'main', signers: [] }
  const refunded = x.state === 'ruled' ? x.ruling === 'refund' : x.state !== 'released' && now >= x.locktime
  return refunded
    ? { outcome: 'refunded', path: x.state === 'ruled' ? 'main' : 'refund', signers: [] }
    : { outcome: 'settled', path: 'main', signers: [] }
}

/** The relay's record that the escrow's proofs are spent, and how. */
export const spentTemplate = (x: Parties, s: Spent, now: number) =>
  relayAction(x, 'spent', [['outcome', s.outcome], ['path', s.path], ...s.signers.map(k => ['signer', k])], '', now)
