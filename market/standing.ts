// Standing (DESIGN §7.7), pure: how much the market can believe what a key signs. It is personalized PageRank
// (Page et al. 1999; Haveliwala 2002, "Topic-sensitive PageRank"), which is EigenTrust with pre-trusted peers
// (Kamvar, Schlosser and Garcia-Molina 2003): a walk that starts at the roots, follows the market's verified edges
// (trust declarations, paid jobs from customer to provider, good reviews from paid customers) in proportion to
// their weight, and jumps back to the roots with probability 1 − DAMPING at each step (and from a key with no
// edges). A key's standing is the share of the walk's time it holds. Keys no root reaches hold exactly 0,
// whatever they sign among themselves; a key can pass on only what it holds, split over its edges, so making many
// keys splits standing rather than multiplying it (Cheng and Friedman 2005, "Sybilproof reputation mechanisms":
// personalized, asymmetric functions like this one resist sybils where global ones cannot). A region that a key
// with standing s feeds, however its keys link among themselves, holds at most s × DAMPING / (1 − DAMPING)
// (the link-farm bound, Gyöngyi and Garcia-Molina 2005), which DAMPING = 0.5 keeps at s.
//
// Deterministic: inputs in storage order, keys numbered in order of first appearance, a fixed number of
// iterations, every sum taken in the same order. The same inputs give the same bits, live and on a rebuild.

/** The chance, at each step, that the walk follows an edge rather than jumping back to the roots. */
export const DAMPING = 0.5
/** Iterations of the power method: the error halves with each (DAMPING), so 2^-48 of the total is left. */
export const ITERATIONS = 48
/**
 * How many keys one root's trust carries at full weight when it trusts nothing else: a root's own standing is at
 * least (1 − DAMPING) times its share of the jumps, and each of its trusted keys gets DAMPING over their number
 * of that; a key whose standing reaches 1 / FULL_TRUST of the roots' jump share × DAMPING has weight 1.
 */
export const FULL_TRUST = 100

/** An edge along which a key passes standing: from, to, and a weight > 0 (several between the same keys add up). */
export type Edge = readonly [from: string, to: string, weight: number]

export type StandingInputs = {
  /** The roots: the relay key and the operator's `market.trust_roots`. They share the jumps equally. */
  readonly roots: readonly string[]
  /** Keys that paid the operator (the zap gate), with what they paid: they share `poolShare` of the jumps by it. */
  readonly pool: readonly { readonly key: string; readonly paid: number }[]
  /** 0 to 0.5; the roots share the rest (all of it when the pool is empty). */
  readonly poolShare: number
  /** In storage order (tuples, as the store's rows come). Self-edges are ignored. */
  readonly edges: readonly Edge[]
}

/** Every key the walk reached, in order of first appearance: its standing (the shares sum to 1) and weight (0-1). */
export type Standing = {
  readonly keys: readonly string[]
  readonly standing: Float64Array
  readonly weight: Float64Array
  /** A key's standing and weight; undefined when the walk never reached it. */
  get(key: string): { readonly standing: number; readonly weight: number } | undefined
  /** A key's weight; undefined when the walk never reached it. */
  weightOf(key: string): number | undefined
}

/** Computes the standing of every key the walk from the roots reaches. */
export function computeStanding(inputs: StandingInputs): Standing {
  const index = new Map<string, number>()
  const keys: string[] = []
  const at = (key: string) => {
    let i = index.get(key)
    if (i === undefined) {
      i = keys.length
      index.set(key, i)
      keys.push(key)
    }
    return i
  }
  const roots = [...new Set(inputs.roots)]
  if (roots.length === 0) throw new Error('standing needs at least one root')
  roots.forEach(at)
  const paidTotal = inputs.pool.reduce((sum, p) => sum + (p.paid > 0 ? p.paid : 0), 0)
  const poolShare = paidTotal > 0 ? Math.min(0.5, Math.max(0, inputs.poolShare)) : 0
  const rootShare = (1 - poolShare) / roots.length
  // The jump distribution, by key index (a key may be both a root and in the pool).
  const jumps = new Map<number, number>()
  for (const r of roots) jumps.set(at(r), rootShare)
  if (poolShare > 0)
    for (const p of inputs.pool)
      if (p.paid > 0) jumps.set(at(p.key), (jumps.get(at(p.key)) ?? 0) + (poolShare * p.paid) / paidTotal)
  // Edges between the same keys are walked as they are: the walk is the same as over their sum.
  const from = new Int32Array(inputs.edges.length)
  const to = new Int32Array(inputs.edges.length)
  const share = new Float64Array(inputs.edges.length)
  let m = 0
  for (const [f, t, w] of inputs.edges) {
    if (f === t || !(w > 0)) continue
    from[m] = at(f)
    to[m] = at(t)
    share[m++] = w
  }
  const n = keys.length
  const out = new Float64Array(n)
  for (let e = 0; e < m; e++) out[from[e]!]! += share[e]!
  // The share of a key's standing each of its edges carries.
  for (let e = 0; e < m; e++) share[e] = (DAMPING * share[e]!) / out[from[e]!]!
  const jumpTo = [...jumps.entries()]
  let s = new Float64Array(n)
  for (const [i, p] of jumpTo) s[i] = p
  let next = new Float64Array(n)
  for (let k = 0; k < ITERATIONS; k++) {
    next.fill(0)
    // The walk jumps back from every key with probability 1 − DAMPING, and always from a key with no edges.
    let back = 1 - DAMPING
    for (let i = 0; i < n; i++) if (out[i] === 0) back += DAMPING * s[i]!
    for (let e = 0; e < m; e++) next[to[e]!]! += s[from[e]!]! * share[e]!
    for (const [i, p] of jumpTo) next[i]! += back * p
    ;[s, next] = [next, s]
  }
  // A key at 1 / FULL_TRUST of what a sole root passes to each trusted key has full weight.
  const reference = ((1 - DAMPING) * rootShare * DAMPING) / FULL_TRUST
  const reached: string[] = []
  const reachedAt = new Map<string, number>()
  for (let i = 0; i < n; i++)
    if (s[i]! > 0) {
      reachedAt.set(keys[i]!, reached.length)
      reached.push(keys[i]!)
    }
  const standing = new Float64Array(reached.length)
  const weight = new Float64Array(reached.length)
  reached.forEach((key, j) => {
    standing[j] = s[index.get(key)!]!
    weight[j] = Math.min(1, standing[j]! / reference)
  })
  return {
    keys: reached,
    standing,
    weight,
    get(key) {
      const j = reachedAt.get(key)
      return j === undefined ? undefined : { standing: standing[j]!, weight: weight[j]! }
    },
    weightOf(key) {
      const j = reachedAt.get(key)
      return j === undefined ? undefined : weight[j]!
    },
  }
}
