// Config field kinds and their constructors; config/schema.ts and config/policies.ts declare every key with them.

/** Config problems, each naming the key, the value and what is allowed; the message joins them with "; ". */
export class ConfigError extends Error {
  /** Every problem found, one line each. */
  readonly problems: readonly string[]
  constructor(problems: string | readonly string[]) {
    const list = typeof problems === 'string' ? [problems] : problems
    super(list.join('; '))
    this.problems = list
  }
}

type Base<T> = { readonly default: T; readonly doc: string; readonly restart?: boolean }
export type IntField = Base<number> & { readonly type: 'int'; readonly min: number; readonly max: number }
export type StrField = Base<string> & { readonly type: 'string'; readonly values?: readonly string[] }
export type BoolField = Base<boolean> & { readonly type: 'bool' }
/**
 * A list of strings, each matching `item` (described by `itemDoc` in error messages); `check` then returns
 * what is wrong with the numbers in an item, if anything, and `range` states the allowed numbers in the reference.
 */
export type ListField = Base<readonly string[]> & {
  readonly type: 'list'
  readonly item: RegExp
  readonly itemDoc: string
  readonly check?: (item: string) => string | undefined
  readonly range?: string
}
/** A table of free-form values (a NIP-01 filter); `check` says what is wrong with one, if anything. */
export type ObjectField = Base<Readonly<Record<string, unknown>>> & {
  readonly type: 'object'
  readonly check: (v: Readonly<Record<string, unknown>>) => string | undefined
}
/** The fields of one entry of an array of tables; those in `required` have no default. */
export type Entry = { readonly [key: string]: IntField | StrField | BoolField | ListField | ObjectField }
/** An array of tables (`[[mirror]]`), each entry checked against `entry`; restart-only, as a list of things to run. */
export type TablesField<E extends Entry = Entry> = Base<readonly Readonly<Record<string, unknown>>[]> & {
  readonly type: 'tables'
  readonly entry: E
  readonly required: readonly string[]
  /** What is wrong with a whole entry (its fields already checked), if anything. */
  readonly check?: (entry: Readonly<Record<string, unknown>>) => string | undefined
}
export type Field = IntField | StrField | BoolField | ListField | ObjectField | TablesField
/** A table of fields and nested tables (`[policies.zap_gate]`). */
export type Section = { readonly [key: string]: Field | Section }

/** True for a leaf of the schema tree. */
export function isField(x: Field | Section): x is Field {
  return typeof (x as Field).doc === 'string' && 'default' in x
}

/** An integer key; its range is always explicit, so no value an operator can write goes unchecked. */
export const int = (d: number, doc: string, min: number, max: number, restart = false): IntField => ({
  type: 'int',
  default: d,
  doc,
  min,
  max,
  restart,
})
export const str = (d: string, doc: string, restart = false): StrField => ({ type: 'string', default: d, doc, restart })
export const oneOf = (values: readonly string[], d: string, doc: string, restart = false): StrField => ({
  type: 'string',
  default: d,
  doc,
  values,
  restart,
})
export const bool = (d: boolean, doc: string, restart = false): BoolField => ({
  type: 'bool',
  default: d,
  doc,
  restart,
})
export const list = (d: readonly string[], doc: string, item: RegExp, itemDoc: string, restart = false): ListField => ({
  type: 'list',
  default: d,
  doc,
  item,
  itemDoc,
  restart,
})

export const object = (
  d: Readonly<Record<string, unknown>>,
  doc: string,
  check: ObjectField['check'],
): ObjectField => ({ type: 'object', default: d, doc, check })
export const tables = <E extends Entry>(
  doc: string,
  entry: E,
  required: readonly (keyof E & string)[],
  check?: TablesField['check'],
): TablesField<E> => ({
  type: 'tables',
  default: [],
  doc,
  entry,
  required,
  restart: true,
  ...(check ? { check } : {}),
})

/** Item patterns shared by several policies. */
export const HEX_PUBKEY = /^[0-9a-f]{64}$/
const KIND_RANGE = /^\d{1,5}(-\d{1,5})?$/
/** A rule "KINDS:N": KINDS is "*", "N" or "LO-HI" (policies/kinds.ts compiles it). */
export const KIND_RULE = /^(\*|\d{1,5}(-\d{1,5})?):\d{1,9}$/

// NIP-01: kinds are integers between 0 and 65535.
const MAX_KIND = 65535

/** What is wrong with a kind entry ("*", "N" or "LO-HI", already matching the pattern), if anything. */
function kindProblem(entry: string): string | undefined {
  if (entry === '*') return undefined
  const [lo, hi = lo] = entry.split('-').map(Number) as [number, number?]
  if (hi > MAX_KIND) return `kind ${hi} is out of range 0..${MAX_KIND}`
  if (lo > hi) return `the range ${entry} is empty`
  return undefined
}

/** A list of kinds and kind ranges; `example` shows one in error messages. */
export const kindList = (d: readonly string[], doc: string, example = '5000-5999'): ListField => ({
  ...list(d, doc, KIND_RANGE, `a kind or a range like "${example}"`),
  check: kindProblem,
  range: `kinds 0..${MAX_KIND}`,
})

/** A list of "KINDS:N" rules, first match wins, where N counts `unit` and lies in min..max. */
export const kindRules = (
  d: readonly string[],
  doc: string,
  example: string,
  unit: string,
  min: number,
  max: number,
): ListField => ({
  ...list(d, doc, KIND_RULE, `a rule like "${example}" (kinds or "*", then ${unit})`),
  check: rule => {
    const at = rule.lastIndexOf(':')
    const n = Number(rule.slice(at + 1))
    if (n < min || n > max) return `${n} ${unit} is out of range ${min}..${max}`
    return kindProblem(rule.slice(0, at))
  },
  range: `${unit} ${min}..${max}`,
})

type ValueOf<F> =
  F extends TablesField<infer E>
    ? readonly { readonly [K in keyof E]: ValueOf<E[K]> }[]
    : F extends ObjectField
      ? Readonly<Record<string, unknown>>
      : F extends IntField
        ? number
        : F extends BoolField
          ? boolean
          : F extends ListField
            ? readonly string[]
            : F extends StrField
              ? string
              : { readonly [K in keyof F]: ValueOf<F[K]> }
/** The value type of a schema (sub)tree. */
export type ConfigOf<S> = ValueOf<S>
