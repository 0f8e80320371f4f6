// What differs between two configs, key by key, with secrets hidden: for the reload log line, `agora config check`
// and `agora config show`.
import { schemaFields, setPath, valueAt } from './load.js'
import type { Config } from './schema.js'

/** One key whose value differs; secret values are replaced by REDACTED. */
export type ConfigChange = { readonly key: string; readonly from: unknown; readonly to: unknown }

/** What a secret's value is shown as. */
export const REDACTED = '(redacted)'

// relay.secret_key, and whatever a later key names a secret, password, token or key (pubkeys are public).
const SECRET = /secret|password|token|(^|_)key$/

/** True for a key whose value must never be logged or printed. */
export const isSecret = (dotted: string): boolean => SECRET.test(dotted.split('.').at(-1)!)

/** The keys whose values differ from `before` to `after`, in schema order. */
export function changedKeys(before: Config, after: Config): ConfigChange[] {
  const out: ConfigChange[] = []
  for (const [key] of schemaFields()) {
    const from = valueAt(before, key)
    const to = valueAt(after, key)
    if (JSON.stringify(from) === JSON.stringify(to)) continue
    out.push(isSecret(key) ? { key, from: REDACTED, to: REDACTED } : { key, from, to })
  }
  return out
}

/** 'policies.pow.rules ["1:8"] → ["1:12"]; limits.max_subscriptions 20 → 40' */
export function describeChanges(changes: readonly ConfigChange[]): string {
  const show = (key: string, v: unknown) => (isSecret(key) ? REDACTED : JSON.stringify(v))
  return changes.map(c => `${c.key} ${show(c.key, c.from)} → ${show(c.key, c.to)}`).join('; ')
}

/** A plain copy of `cfg` in which every secret that is set reads REDACTED. */
export function redact(cfg: Config): Record<string, unknown> {
  const out = structuredClone(cfg) as unknown as Record<string, unknown>
  for (const [key] of schemaFields()) if (isSecret(key) && valueAt(cfg, key) !== '') setPath(out, key, REDACTED)
  return out
}
