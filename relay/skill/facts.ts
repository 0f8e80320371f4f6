// What /skill.md is written from, worked out once per request: the relay's URLs and key, which kinds it accepts and
// what work each needs, from the effective config and what the active policies state (the NIP-11 inputs).
import type { Config } from '../../config/schema.js'
import { marketInfo } from '../../nips/nip11.js'
import { isActive } from '../../policies/index.js'
import { kindWhitelist } from '../../policies/kind-whitelist.js'
import { compileKinds, compileRules, ruleFor } from '../../policies/kinds.js'
import { privateReads } from '../../policies/private-reads.js'
import type { InfoPart } from '../../policies/types.js'

export type SkillInputs = {
  /** The ws(s) URL clients connect to. */
  readonly url: string
  /** The relay's pubkey; undefined while it has none (before its first start). */
  readonly pubkey: string | undefined
  /** What the active policies state (the NIP-11 inputs: PoW rules, zap gate, AUTH). */
  readonly policies: InfoPart
  /** Kinds the operator allowed (true) or refused (false) through the management API (NIP-86). */
  readonly kindVerdicts?: ReadonlyMap<number, boolean>
}

export type Facts = {
  readonly cfg: Config
  readonly x: SkillInputs
  /** The relay's pubkey, or a placeholder for it. */
  readonly relayKey: string
  /** The relay's http(s) base: NIP-11 and this document. */
  readonly http: string
  /** The kind whitelist's entries ("7000", "5000-5999"); undefined when it is off. */
  readonly whitelist: readonly string[] | undefined
  /** Kinds served only to their parties once authenticated (NIP-42); undefined when private reads are off. */
  readonly privateKinds: readonly string[] | undefined
  /** True when the relay accepts events of the kind (kind whitelist and the operator's verdicts). */
  readonly accepts: (kind: number) => boolean
  /** The proof of work the kind needs, in bits (the first matching rule; 0 for none). */
  readonly bits: (kind: number) => number
}

/** The job kind the examples use: 5100 (text) when accepted here, else the first job kind that is. */
export function jobKind(f: Facts): number {
  if (f.accepts(5100)) return 5100
  for (let k = 5000; k <= 5999; k++) if (f.accepts(k)) return k
  return 5100
}

/** A mint for the examples: the first the operator allows, else a placeholder. */
export const exampleMint = (f: Facts) => marketInfo(f.cfg).mints[0] ?? 'https://mint.example.com'

/** Stands in for the relay key in examples when there is none yet. */
export const NO_KEY = '<relay pubkey>'

/** The facts of one document. */
export function makeFacts(cfg: Config, x: SkillInputs): Facts {
  const verdict = (kind: number) => x.kindVerdicts?.get(kind)
  const whitelist = isActive(kindWhitelist, cfg) ? cfg.policies.kind_whitelist.kinds : undefined
  const listed = whitelist ? compileKinds(whitelist) : () => true
  // As the policies judge: an allowed kind passes the whitelist, a refused one is refused by the bans whatever it says.
  const accepts = (kind: number) => verdict(kind) !== false && (listed(kind) || verdict(kind) === true)
  const rules = compileRules((x.policies.powByKind ?? []).map(r => `${r.kinds}:${r.bits}`))
  return {
    cfg,
    x,
    relayKey: x.pubkey ?? NO_KEY,
    http: httpBase(x.url),
    whitelist,
    privateKinds: isActive(privateReads, cfg) ? cfg.policies.private_reads.kinds : undefined,
    accepts,
    bits: kind => ruleFor(rules, kind)?.value ?? 0,
  }
}

/**
 * The relay's public ws(s) URL: relay.url, else ws:// and the Host header (as NIP-42 takes it), else `fallback` (the
 * address it listens on).
 */
export function publicUrl(cfg: Config, host: string, fallback: string): string {
  if (cfg.relay.url) return cfg.relay.url
  // The Host header is the client's to write: anything but a host and port falls back rather than reach the page.
  return /^[\w.-]+(:\d+)?$|^\[[\da-fA-F:.]+\](:\d+)?$/.test(host) ? `ws://${host}` : fallback
}

/** The http(s) base of a ws(s) URL (wss → https, ws → http), without a trailing slash. */
export const httpBase = (url: string) => url.replace(/^ws(s?):\/\//i, 'http$1://').replace(/\/+$/, '')

/** The URL of /skill.md for a relay URL. */
export const skillUrl = (url: string) => `${httpBase(url)}/skill.md`

/** One paragraph (or list item) of markdown, from sentences kept short in the source. */
export const para = (...parts: string[]) => parts.join(' ')

/** Inline code. */
export const code = (s: string | number) => `\`${s}\``

/** Kind entries as configured ("7000", "5000-5999"), as inline code. */
export const kindList = (entries: readonly string[]) => entries.map(code).join(', ')

const UNITS: [number, string][] = [
  [86_400, 'day'],
  [3_600, 'hour'],
  [60, 'minute'],
]

/** Seconds, with the largest whole unit beside them: "86400 s (1 day)". */
export function seconds(s: number): string {
  const unit = UNITS.find(([n]) => s >= n && s % n === 0)
  if (!unit) return `${s} s`
  const n = s / unit[0]
  return `${s} s (${n} ${unit[1]}${n === 1 ? '' : 's'})`
}

/** A fenced JSON block of a one-line value (a frame, a config snippet). */
export const jsonLine = (value: unknown) => ['```json', JSON.stringify(value), '```']

/** A tag as JSON, spaced as people write it: ["e", "<id>"]. */
const tagJson = (tag: readonly string[]) => `[${tag.map(v => JSON.stringify(v)).join(', ')}]`

/** An event template to sign: the fields NIP-01 signs, in a fenced JSON block with one tag per line. */
export type Template = { readonly kind: number; readonly tags: readonly string[][]; readonly content: string }

/** The template in a JSON block, with a nonce tag committing to `bits` when they are more than 0. */
export function eventBlock(t: Template, bits: number): string[] {
  const tags = bits > 0 ? [...t.tags, ['nonce', '0', String(bits)]] : t.tags
  return [
    '```json',
    '{',
    `  "kind": ${t.kind},`,
    '  "pubkey": "<your pubkey, hex>",',
    '  "created_at": "<unix time in seconds, as a number>",',
    tags.length === 0 ? '  "tags": [],' : `  "tags": [\n${tags.map(t => `    ${tagJson(t)}`).join(',\n')}\n  ],`,
    `  "content": ${JSON.stringify(t.content)}`,
    '}',
    '```',
  ]
}
