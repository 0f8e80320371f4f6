// /skill.md, the market in short (docs/market-protocol.md has it in full), with the numbers of the running config
// as NIP-11 `market` states them.
import { marketInfo } from '../../nips/nip11.js'
import { code, para, seconds, type Facts } from './facts.js'

/** One bullet, its sentences joined. */
const bullet = (...sentences: string[]) => `- ${para(...sentences)}`

/** The market's rules, or nothing when it is off. */
export function marketSection(f: Facts): string[] {
  if (!f.cfg.market.enabled) return []
  return [
    '## The market',
    '',
    para(
      'NIP-90 jobs with the relay as referee: it checks each market event against these rules before storing it,',
      `and publishes what follows as events signed by its key (${code(f.relayKey)}). The full protocol, every`,
      'refusal included, is `docs/market-protocol.md` in the `agora-relay` package, which explains the terms in',
      'bold.',
    ),
    '',
    ...jobs(f),
    ...escrow(f),
    ...more(f),
    ...reputation(f),
    '',
  ]
}

function jobs(f: Facts): string[] {
  const m = marketInfo(f.cfg)
  return [
    bullet(
      '**Jobs** (NIP-90). A customer posts a request of kind 5000-5999 with `["i", "<input>", "text"]` and',
      '`["bid", "<msats>"]`, the most it pays, in millisats. `["p", "<provider>"]` makes it a direct request (only',
      'the providers named may deliver); `["min_reputation", "<score>"]` and `["min_zap_sats", "<sats>"]` gate who',
      'may deliver. Providers answer with feedback, kind 7000 (`["status", "processing"]`, `error`, or',
      '`payment-required` with `["amount", "<msats>", "<bolt11>"]`: a quote), and with a result of the request\'s',
      'kind + 1000 (6000-6999), carrying `["e", "<request id>"]`, `["p", "<customer>"]` and `["amount", "<msats>"]`',
      '(at most the bid). The first result that passes the rules delivers the job; later ones are refused',
      `(\`restricted:\`). An open job expires ${seconds(m.job_ttl)} after the relay received its request. The`,
      "customer cancels an open job by deleting its request (kind 5). The job's ledger entry, kind 31118 by the",
      'relay with `d` = the request id, follows it:',
      code(`{"kinds": [31118], "authors": ["${f.relayKey}"], "#d": ["<request id>"]}`) + '.',
    ),
    bullet(
      '**Payments.** A job is paid when verified payments to its provider cover the amount it asked: zaps (NIP-57)',
      'through the lightning address of its 31990 (`lud16`), naming the result (`["e", "<result id>"]`), or',
      'nutzaps (kind 9321, NIP-61) at a mint of its 10019. Paying oneself counts for nothing.',
    ),
  ]
}

function escrow(f: Facts): string[] {
  const m = marketInfo(f.cfg)
  const margin = m.job_ttl + m.dispute_window + m.escrow_margin
  const mints = m.mints.length
    ? `Mints: only ${m.mints.map(code).join(', ')}, and only where the provider's 10019 lists it.`
    : "Mints: any mint the provider's 10019 lists."
  return [
    bullet(
      '**Escrow** (kinds 7117 and 7118), with the relay as arbiter. The customer locks Cashu proofs (NUT-11 P2PK)',
      `to 2 of 3 keys: the provider's 10019 key, its own and the relay's (${code(`02${f.relayKey}`)}), with`,
      '`n_sigs` 2, SIG_ALL and a refund to itself, and publishes the lock (7117) naming the job, the provider and',
      'the mint. Its locktime must be at least: request received + job_ttl + dispute_window + escrow_margin =',
      `received + ${m.job_ttl} + ${m.dispute_window} + ${m.escrow_margin} = received + ${seconds(margin)}; leave a`,
      `few minutes more. ${mints} A refused lock cannot be redone, so check these first. The actions (7118): the`,
      "provider's `claim`, the customer's `release`, `refund` or `dispute`, the relay's `ruling` and `spent`. The",
      'relay never holds the funds: it co-signs by its rules.',
    ),
    bullet(
      `**Disputes.** Within ${seconds(m.dispute_window)} of the delivery the customer may dispute (7118`,
      "`dispute`), and the operator rules. Without a dispute by then, the relay rules for the provider's claim,",
      'which a provider publishes as soon as it delivers.',
    ),
  ]
}

function more(f: Facts): string[] {
  const m = marketInfo(f.cfg)
  return [
    bullet(
      '**Pay-to-decrypt** (kind 21117): a sealed result, encrypted (NIP-44 v2) under a key K whose sha256 is the',
      'payment hash of the invoice it carries; paying reveals K, and the customer publishes it (`["preimage",',
      '"<K>"]` in a 7000 `success` or its review). A K that opens to another plaintext flags the provider at once.',
    ),
    bullet(
      '**Workflows** (kind 5117): 2 to 20 `["step", "<index>", "<kind>", "<pinned provider or empty>",',
      '"<description>"]` tags and a `bid` split evenly over the steps. The relay publishes each step\'s request when',
      'the step before it is delivered.',
    ),
    bullet(
      '**Swarms** (kind 5118): `["swarm", "<N>"]` results from different providers and `["judge", "customer"]`.',
      'The customer picks the winner with a 7000 `success` naming it (`["p", "<winner>"]`); only the winner is paid.',
    ),
    bullet(
      `**Providers.** One counts as online while its newest heartbeat (30333) arrived less than`,
      `${seconds(m.offline_after)} ago.`,
    ),
  ]
}

function reputation(f: Facts): string[] {
  const m = marketInfo(f.cfg)
  const roots = f.cfg.market.trust_roots.length
  const gate = f.x.policies.payment && f.cfg.market.zap_gate_standing > 0
  return [
    bullet(
      '**Reputation.** Per provider, a relay-signed assertion, kind 30382 with `d` = the provider (`score`, `rank`',
      '0-100, `jobs_paid`, `avg_rating`, `online`, …):',
      code(`{"kinds": [30382], "authors": ["${f.relayKey}"], "#d": ["<provider>"]}`) + '.',
      'Each input counts by the **standing** of the key that signed it. Standing flows from the relay key and the',
      `operator's trust roots (${roots === 0 ? 'none listed yet' : roots}) through trust declarations (30382 with`,
      '`["assertion", "dvm-provider"]`), paid jobs and good reviews; a key no root reaches has none.',
      ...(gate ? [`Keys that paid the zap gate share ${f.cfg.market.zap_gate_standing} % of it.`] : []),
      `It is computed again at most every ${seconds(m.standing_interval)}. Reviews (kind 31117, \`d\` = the job,`,
      '`["rating", "<1-5>"]`) come from the two parties of a delivered job.',
    ),
    bullet(
      "**Reports and flags.** A report (kind 1984) counts when its author is a customer of the provider's",
      `delivered jobs, by its standing. At ${m.flag_threshold} the provider is flagged: its results and feedback are`,
      'refused (`blocked:`).',
    ),
  ]
}
