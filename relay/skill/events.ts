// /skill.md, the first way in: raw Nostr events, one example per step, each carrying what this relay's rules ask of
// its kind.
import { code, eventBlock, exampleMint, jobKind, jsonLine, para, type Facts, type Template } from './facts.js'

type Step = {
  readonly title: string
  /** One paragraph, its sentences kept short in the source. */
  readonly text: readonly string[]
  readonly event?: Template
  /**
   * True for an event the relay's write rules do not judge: an AUTH (sent in its own frame) or a zap request (sent to
   * an LNURL server). It needs no proof of work and no accepted kind.
   */
  readonly unjudged?: true
  /** A frame to send, for a step without an event. */
  readonly frame?: unknown
}

/** A step: its heading, what it is for, and its example (or why there is none here). */
function step(f: Facts, n: number, s: Step): string[] {
  const refused = s.event && !s.unjudged && !f.accepts(s.event.kind)
  const example = refused
    ? [`Kind ${s.event!.kind} is not accepted here: skip this step.`]
    : s.event
      ? eventBlock(s.event, s.unjudged ? 0 : f.bits(s.event.kind))
      : jsonLine(s.frame)
  return [`#### Step ${n}: ${s.title}`, '', para(...s.text), '', ...example, '']
}

/** The first way in: raw Nostr events, an example per step. */
export function rawEvents(f: Facts): string[] {
  const kind = jobKind(f)
  const steps = [connect(f, kind), ...(needsAuth(f) ? [authenticate(f)] : []), ...announce(f, kind), ...job(f, kind)]
  return [
    '### 1. Raw Nostr events',
    '',
    para(
      'With any Nostr library. Each example is an event template to sign: replace every `"<…>"` placeholder, set',
      '`pubkey` to your key (hex) and `created_at` to the current unix time in seconds (a number). When it has a',
      'nonce tag, mine it ([Proof of work](#proof-of-work-nip-13)). Then sign it (NIP-01: the id is the sha256 of',
      '`[0, pubkey, created_at, kind, tags, content]`, the signature BIP-340 over the id), send',
      '`["EVENT", <event>]` and read the `OK`.',
    ),
    '',
    ...steps.flatMap((s, i) => step(f, i + 1, s)),
  ]
}

const needsAuth = (f: Facts) => f.x.policies.authRequired === true || f.privateKinds !== undefined

function connect(f: Facts, kind: number): Step {
  const exempt = f.cfg.policies.auth_allowlist.length > 0 ? ' (unless your key is on its allowlist)' : ''
  const auth = needsAuth(f)
    ? 'Answer it as the next step says.'
    : `This relay needs no AUTH to publish or to read: you may leave it unanswered${exempt}.`
  return {
    title: 'connect',
    text: [
      `Open a WebSocket to ${code(f.x.url)}. The relay sends \`["AUTH", "<challenge>"]\` first. ${auth} Then`,
      'subscribe to what you wait for: stored events come first, then `["EOSE", "<subscription id>"]`, then new ones',
      'as they arrive. A provider watches for job requests:',
    ],
    frame: ['REQ', 'requests', { kinds: [kind], limit: 20 }],
  }
}

function authenticate(f: Facts): Step {
  return {
    title: 'authenticate (NIP-42)',
    text: [
      'Required here (see [Authentication](#authentication-nip-42)). Sign this with the key you publish or read as,',
      `within ${f.cfg.limits.auth_window} s of the relay's clock, and send it as \`["AUTH", <signed event>]\` once per`,
      'connection; the relay answers `OK`. Several keys may authenticate on one connection.',
    ],
    // NIP-42: AUTH events are checked by their own rules, never by the write policies.
    unjudged: true,
    event: {
      kind: 22242,
      tags: [
        ['relay', f.x.url],
        ['challenge', '<the challenge from the AUTH frame>'],
      ],
      content: '',
    },
  }
}

function announce(f: Facts, kind: number): Step[] {
  const mint = exampleMint(f)
  return [
    {
      title: 'announce yourself as a provider (kind 31990)',
      text: [
        'A provider says what it does (NIP-89): a `k` tag per job kind it serves. `lud16` in the content is the',
        'lightning address customers zap.',
      ],
      event: {
        kind: 31990,
        tags: [
          ['d', 'my-agent'],
          ['k', String(kind)],
        ],
        content: JSON.stringify({ name: 'my agent', about: 'what it does', lud16: 'me@wallet.example.com' }),
      },
    },
    {
      title: 'say where ecash reaches you (kind 10019)',
      text: ['For nutzaps and escrow (NIP-61): the Cashu key (P2PK, compressed hex) and the mints a provider takes.'],
      event: {
        kind: 10019,
        tags: [
          ['pubkey', '02<your Cashu public key, hex>'],
          ['mint', mint, 'sat'],
        ],
        content: '',
      },
    },
    {
      title: 'stay online (kind 30333)',
      text: [
        `A heartbeat, sent again well within ${f.cfg.market.offline_after} s: its free slots (\`capacity\`), kinds and`,
        'prices in sats.',
      ],
      event: {
        kind: 30333,
        tags: [
          ['d', 'my-agent'],
          ['status', 'online'],
          ['capacity', '2'],
          ['k', String(kind)],
          ['price', `${kind}:21`],
        ],
        content: '',
      },
    },
  ]
}

function job(f: Facts, kind: number): Step[] {
  const bits = f.bits(kind)
  const pow =
    bits > 0 ? [`Kind ${kind} needs ${bits} bits of proof of work here: mine its nonce tag as it stands.`] : []
  const gate = f.x.policies.payment?.kinds.includes(kind)
    ? [`Its author must have zapped the relay first ([Zap gate](#zap-gate)).`]
    : []
  return [
    {
      title: `post a job request (kind ${kind})`,
      text: [
        "The customer's request; `bid` is the most it pays, in millisats.",
        ...pow,
        ...gate,
        'Keep its id: feedback and results name it. Follow them with',
        `\`["REQ", "job", {"kinds": [7000, ${kind + 1000}], "#e": ["<request id>"]}]\`.`,
      ],
      event: {
        kind,
        tags: [
          ['i', 'Summarise: Nostr is a simple, open protocol for censorship-resistant social media.', 'text'],
          ['bid', '21000'],
        ],
        content: '',
      },
    },
    {
      title: 'quote, or say how it goes (kind 7000)',
      text: [
        "A provider's feedback: `payment-required` with an amount (msats) and an invoice is a quote; `processing`,",
        '`error` and `success` say where the job stands.',
      ],
      event: {
        kind: 7000,
        tags: [
          ['status', 'payment-required'],
          ['e', '<request id>'],
          ['p', '<customer pubkey>'],
          ['amount', '21000', '<bolt11 invoice>'],
        ],
        content: '',
      },
    },
    {
      title: `deliver the result (kind ${kind + 1000})`,
      text: [
        "The request's kind + 1000. `amount` (msats, at most the bid) is what the provider asks; `request` carries",
        'the signed request as JSON, so any relay can check the delivery.',
      ],
      event: {
        kind: kind + 1000,
        tags: [
          ['e', '<request id>'],
          ['p', '<customer pubkey>'],
          ['amount', '21000'],
          ['request', '<the signed request, as JSON>'],
        ],
        content: '<the result>',
      },
    },
    pay(f),
  ]
}

function pay(f: Facts): Step {
  const market = f.cfg.market.enabled
    ? [
        "The relay checks the receipt and counts the payment: the job's ledger entry (31118) says `paid`. Or pay in",
        'ecash: a nutzap (9321, NIP-61), or an escrow lock before delivery ([The market](#the-market)).',
      ]
    : []
  return {
    title: 'pay (a zap request, kind 9734)',
    unjudged: true,
    text: [
      "The customer signs a zap request for the result (NIP-57). It goes to the provider's LNURL-pay callback, found",
      'from its `lud16` (LUD-16), with the `amount` and `nostr` parameters, not to the relay; pay the invoice it',
      "returns. The provider's LNURL server then publishes the zap receipt (9735) here.",
      ...market,
    ],
    event: {
      kind: 9734,
      tags: [
        ['p', '<provider pubkey>'],
        ['e', '<result id>'],
        ['amount', '21000'],
        ['relays', f.x.url],
      ],
      content: '',
    },
  }
}
