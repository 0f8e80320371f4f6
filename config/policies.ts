// The [policies.*] sections: each policy's settings, declared here so that config/ imports nothing from
// policies/ (the policies read them from the effective config, `cfg.policies.<name>`).
import { bool, HEX_PUBKEY, int, kindList, kindRules, list, str } from './fields.js'

// DESIGN §5: the DVM market kinds (§7.1) plus profiles, contacts, deletions and relay lists.
const MARKET_KINDS = ['5000-5999', '6000-6999', '7000', '7117', '7118', '9321', '9735', '1984', '10019', '21117']
const ADDRESSABLE = ['30085', '30333', '30382', '31117', '31118', '31990']

export const kindWhitelist = {
  enabled: bool(true, 'Accept only the listed kinds.'),
  kinds: kindList(
    ['0', '3', '5', '10002', ...MARKET_KINDS, ...ADDRESSABLE],
    'Accepted kinds: single kinds ("7000") and ranges ("5000-5999").',
  ),
}

export const pow = {
  enabled: bool(true, 'Require NIP-13 proof of work by kind.'),
  // NIP-13: an event id has 256 bits, so no event can show more leading zero bits.
  rules: kindRules(
    ['5000-5999:10', '0:20', '1:20', '3:20'],
    'Bits required per kind, first match wins ("KINDS:BITS", KINDS = "*", "N" or "LO-HI"); other kinds need none.',
    '5000-5999:10',
    'bits',
    0,
    256,
  ),
}

export const zapGate = {
  enabled: bool(false, 'Require a verified zap to the relay before a pubkey may post the gated kinds.'),
  kinds: kindList(['5000-5999'], 'Kinds behind the gate.'),
  min_sats: int(21, 'Smallest single zap, in sats, that unlocks a pubkey.', 1, 2_100_000_000_000_000),
  lightning_address: str('', 'The relay’s lightning address (name@domain), shown in refusals and NIP-11.'),
  zapper_pubkeys: list(
    [],
    'nostrPubkey of the LNURL server behind lightning_address (hex).',
    HEX_PUBKEY,
    'a 64-character lowercase hex pubkey',
  ),
}

// 0 per minute refuses the kind outright; the ceiling matches the other per-minute limits.
const perMinute = (d: readonly string[], doc: string) =>
  kindRules(d, doc, '5000-5999:30', 'events per minute', 0, 1_000_000)

export const rateLimit = {
  enabled: bool(true, 'Rate-limit events, reads and connections.'),
  events_per_pubkey: perMinute(['5000-5999:30', '*:300'], 'Events per minute per author, by kind, first match wins.'),
  events_per_ip: perMinute(['*:600'], 'Events per minute per IP, by kind, first match wins.'),
  reads_per_ip: int(600, 'REQ, COUNT and NEG-OPEN messages per minute per IP.', 1, 1_000_000),
  connections_per_ip: int(100, 'Open WebSocket connections per IP.', 1, 1_000_000),
}

export const authWrites = {
  enabled: bool(false, 'Accept events only from connections authenticated (NIP-42) as their author.'),
}

export const privateReads = {
  enabled: bool(false, 'Serve the listed kinds only to their parties.'),
  kinds: kindList([], 'Kinds readable only by their author or a pubkey they p-tag, once authenticated.', '7117-7118'),
}
