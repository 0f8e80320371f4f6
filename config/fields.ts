// Config field kinds and their constructors; config/schema.ts and config/policies.ts declare every key with them.

/** A config problem, naming the key and what is wrong with it. */
export class ConfigError extends Error {}

type Base<T> = { readonly default: T; readonly doc: string; readonly restart?: boolean }
export type IntField = Base<number> & { readonly type: 'int'; readonly min: number; readonly max: number }
export type StrField = Base<string> & { readonly type: 'string'; readonly values?: readonly string[] }
export type BoolField = Base<boolean> & { readonly type: 'bool' }
/** A list of strings, each matching `item` (described by `itemDoc` in error messages). */
export type ListField = Base<readonly string[]> & {
  readonly type: 'list'
  readonly item: RegExp
  readonly itemDoc: string
}
export type Field = IntField | StrField | BoolField | ListField
/** A table of fields and nested tables (`[policies.zap_gate]`). */
export type Section = { readonly [key: string]: Field | Section }

/** True for a leaf of the schema tree. */
export function isField(x: Field | Section): x is Field {
  return typeof (x as Field).doc === 'string' && 'default' in x
}

export const int = (d: number, doc: string, min = 0, max = Number.MAX_SAFE_INTEGER, restart = false): IntField => ({
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

/** Item patterns shared by several policies. */
export const HEX_PUBKEY = /^[0-9a-f]{64}$/
export const KIND_RANGE = /^\d{1,5}(-\d{1,5})?$/
/** A rule "KINDS:N": KINDS is "*", "N" or "LO-HI" (policies/kinds.ts compiles it). */
export const KIND_RULE = /^(\*|\d{1,5}(-\d{1,5})?):\d{1,9}$/

type ValueOf<F> = F extends IntField
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
