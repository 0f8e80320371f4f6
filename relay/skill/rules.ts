// /skill.md, its first half: the relay, and the rules every event published to it meets (the active policies).
import type { PowRule } from '../../nips/nip11.js'
import { isActive } from '../../policies/index.js'
import { compileRules } from '../../policies/kinds.js'
import { rateLimit } from '../../policies/rate-limit.js'
import { code, kindList, NO_KEY, para, seconds, type Facts } from './facts.js'

/** The title, what the document is, and the relay's URL and key. */
export function relaySection(f: Facts): string[] {
  const r = f.cfg.relay
  const signs = f.cfg.market.enabled ? ": it signs the market's outputs and co-signs escrows" : ''
  const key = f.x.pubkey
    ? `${code(f.x.pubkey)} (hex, NIP-11 \`self\`)${signs}`
    : para(
        'none yet: the relay makes its key when it first starts. Read it then from NIP-11 `self`; the examples',
        `write ${code(NO_KEY)} for it`,
      )
  return [
    `# ${r.name}: how to use this relay`,
    '',
    ...(r.description ? [`> ${r.description}`, ''] : []),
    para(
      'How an agent, or a person, uses this Nostr relay: its rules, its market, and an example event for each step.',
      'The relay writes this document from its running configuration at each request, so it holds now and changes',
      'when the operator changes the configuration: read it again rather than keep a copy. The NIP-11 document',
      `states the same rules as JSON (\`GET ${f.http}\` with \`Accept: application/nostr+json\`).`,
    ),
    '',
    '## The relay',
    '',
    `- URL: ${code(f.x.url)} (Nostr over WebSocket, NIP-01)`,
    `- pubkey: ${key}`,
    `- this document: ${f.http}/skill.md (also ${f.http}/.well-known/nostr/skill.md)`,
    f.cfg.market.enabled
      ? '- market: on (NIP-90 jobs with payments, escrow and reputation: [below](#the-market))'
      : '- market: off (job events, where accepted, are relayed like any others: no ledger, escrow or reputation)',
    '',
  ]
}

/** What every published event must meet, policy by policy. */
export function rulesSection(f: Facts): string[] {
  return [
    '## Rules for the events you publish',
    '',
    para(
      'Send `["EVENT", <signed event>]`; the relay answers `["OK", <id>, true|false, "<prefix>: <reason>"]`.',
      'The prefix says what to do: `pow:` mine more work, `rate-limited:` slow down, `auth-required:` authenticate',
      '(NIP-42) and send again, `invalid:` fix the event, `blocked:` and `restricted:` not allowed here (the reason',
      'says why), `duplicate:` already stored.',
    ),
    '',
    ...kinds(f),
    ...pow(f),
    ...zapGate(f),
    ...rateLimits(f),
    ...auth(f),
    ...limits(f),
  ]
}

function kinds(f: Facts): string[] {
  const verdicts = [...(f.x.kindVerdicts ?? [])]
  const allowed = verdicts.flatMap(([k, v]) => (v ? [String(k)] : []))
  const refused = verdicts.flatMap(([k, v]) => (v ? [] : [String(k)]))
  const accepted = f.whitelist
    ? para(
        `Accepted kinds: ${kindList([...f.whitelist, ...allowed])}.`,
        'Any other kind is refused with `blocked: kind N is not accepted here`.',
      )
    : 'Any kind is accepted.'
  const operator = refused.length ? ['', `Refused by the operator: ${kindList(refused)} (\`blocked:\`).`] : []
  return ['### Kinds', '', accepted, ...operator, '']
}

function pow(f: Facts): string[] {
  const rules = f.x.policies.powByKind ?? []
  const title = '### Proof of work (NIP-13)'
  if (rules.length === 0) return [title, '', 'No kind needs proof of work here: send events without a nonce tag.', '']
  return [
    title,
    '',
    '| kinds | bits |',
    '|---|---|',
    ...rules.map(r => `| ${r.kinds} | ${r.bits} |`),
    '',
    para(
      "The first row whose kinds match an event's kind gives the bits it needs (`*` is any kind, `LO-HI` a range of",
      'kinds); a kind no row matches needs none. To mine an event, add the tag `["nonce", "<n>", "<bits>"]`, whose',
      'third element commits to exactly the bits of its row, and try `<n>` = 0, 1, 2, … (a decimal string) until',
      'the event id, the sha256 of its NIP-01 serialisation, has at least that many leading zero bits (each leading',
      '`0` hex digit is 4). Sign it after mining: the signature covers the id. The work counts only up to the',
      'committed target, so a nonce tag committing to fewer bits fails however lucky the id. Too little work is',
      `refused with \`pow:\`, naming the bits needed, then the bits proven: ${refusal(rules.find(r => r.bits > 0)!)}.`,
    ),
    '',
    allowlist(f),
    '',
  ]
}

/** The refusal of an event of the rule's kinds with no work (clients read the bits back with /needs (\d+) bits/). */
function refusal(r: PowRule): string {
  const kind = r.kinds === '*' ? 1 : Number(r.kinds.split('-')[0])
  return code(`pow: kind ${kind} needs ${r.bits} bits committed in a nonce tag, event has 0`)
}

/** The exemption from proof of work and the zap gate (policies/auth-allowlist.ts). */
function allowlist(f: Facts): string {
  const n = f.cfg.policies.auth_allowlist.length
  if (n === 0) return "No pubkey is exempt (the operator's allowlist is empty)."
  return para(
    `The operator exempts ${n} pubkey${n === 1 ? '' : 's'} (its allowlist) from proof of work and the zap gate,`,
    "once authenticated with NIP-42 as the event's author on the connection.",
  )
}

function zapGate(f: Facts): string[] {
  const p = f.x.policies.payment
  if (!p) return ['### Zap gate', '', 'No zap gate: publishing costs nothing.', '']
  const sats = p.msats / 1000
  return [
    '### Zap gate',
    '',
    para(
      `Kinds ${kindList(f.cfg.policies.zap_gate.kinds)} are accepted only from pubkeys that zapped the relay at`,
      `least ${sats} sats once: a NIP-57 zap to the relay's pubkey through its lightning address`,
      `${code(p.lightningAddress)}. One zap unlocks the pubkey for good; until then such events are refused with`,
      '`blocked:`, naming the address and the amount.',
    ),
    '',
  ]
}

/** Rule strings ("KINDS:N") as table rows. */
const ruleRows = (rules: readonly string[]) =>
  compileRules(rules).map(r => `| ${r.text.slice(0, r.text.lastIndexOf(':'))} | ${r.value} |`)

function rateLimits(f: Facts): string[] {
  if (!isActive(rateLimit, f.cfg)) return ['### Rate limits', '', 'No rate limits.', '']
  const r = f.cfg.policies.rate_limit
  return [
    '### Rate limits',
    '',
    "For events, the first row whose kinds match the event's kind:",
    '',
    '| kinds | events per minute per author |',
    '|---|---|',
    ...ruleRows(r.events_per_pubkey),
    '',
    '| kinds | events per minute per IP address |',
    '|---|---|',
    ...ruleRows(r.events_per_ip),
    '',
    para(
      `Reads (REQ and COUNT): ${r.reads_per_ip} per minute per IP address. Connections: ${r.connections_per_ip}`,
      'open per IP address. Past a limit the relay answers `rate-limited:`: wait, the budget refills within the',
      'minute.',
    ),
    '',
  ]
}

function auth(f: Facts): string[] {
  const writes = f.x.policies.authRequired
  const reads = f.privateKinds
  return [
    '### Authentication (NIP-42)',
    '',
    'The relay sends `["AUTH", "<challenge>"]` when you connect.',
    '',
    writes
      ? '- To publish: required. An event is refused with `auth-required:` until you authenticate as its author.'
      : '- To publish: not required.',
    reads
      ? para(
          `- To read: kinds ${kindList(reads)} are served only to their author and the pubkeys they p-tag, once`,
          'authenticated, and COUNT over them is refused. Other kinds need no AUTH.',
        )
      : '- To read: not required.',
    '',
  ]
}

function limits(f: Facts): string[] {
  const L = f.cfg.limits
  return [
    '### Limits',
    '',
    para(
      `- An event: content up to ${L.max_content_length} characters and up to ${L.max_event_tags} tags; a message`,
      `up to ${L.max_message_length} bytes.`,
    ),
    para(
      `- created_at: at most ${seconds(L.created_at_lower_limit)} in the past and`,
      `${seconds(L.created_at_upper_limit)} in the future.`,
    ),
    para(
      `- Per connection: ${L.max_subscriptions} open subscriptions, ${L.max_filters} filters per REQ, \`limit\` up`,
      `to ${L.max_limit} (${L.default_limit} without one).`,
    ),
    '',
  ]
}
