// Kind lists as operators write them: "7000", "5000-5999"; and rules "5000-5999:10" or "*:600".

/** A predicate over kinds compiled from "N" and "LO-HI" entries (prework done once per load). */
export function compileKinds(entries: readonly string[]): (kind: number) => boolean {
  const singles = new Set<number>()
  const ranges: [number, number][] = []
  for (const e of entries) {
    const [lo, hi] = e.split('-').map(Number) as [number, number | undefined]
    if (hi === undefined) singles.add(lo)
    else ranges.push([lo, hi])
  }
  return kind => singles.has(kind) || ranges.some(([lo, hi]) => kind >= lo && kind <= hi)
}

/** Every kind the entries name, for NIP-11 fee lists. */
export function expandKinds(entries: readonly string[]): number[] {
  const match = compileKinds(entries)
  return Array.from({ length: 65536 }, (_, k) => k).filter(match)
}

/** A rule "KINDS:N" (KINDS is "*", "N" or "LO-HI"), first match wins. */
export type KindRule = { readonly matches: (kind: number) => boolean; readonly value: number; readonly text: string }

/** Compiles rule strings in order. */
export function compileRules(rules: readonly string[]): KindRule[] {
  return rules.map(text => {
    const [kinds, value] = text.split(':') as [string, string]
    return { matches: kinds === '*' ? () => true : compileKinds([kinds]), value: Number(value), text }
  })
}

/** The first rule that matches the kind. */
export function ruleFor(rules: readonly KindRule[], kind: number): KindRule | undefined {
  return rules.find(r => r.matches(kind))
}
