// The client's Nostr key: a file holding the secret key as hex (or nsec), created with mode 0600 when asked.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { bytesToHex, hexToBytes } from '@noble/curves/utils.js'
import { decode } from 'nostr-tools/nip19'
import { finalizeEvent, generateSecretKey, getPublicKey, type EventTemplate } from 'nostr-tools/pure'
import { initNostrWasm, type Nostr } from 'nostr-wasm'
import type { NostrEvent } from '../nips/nip01.js'
import { ClientError } from './errors.js'

/** A key that signs events. */
export type Signer = {
  readonly pubkey: string
  readonly secretHex: string
  sign(t: EventTemplate): NostrEvent
}

// An agent signs two events a job: nostr-wasm signs in about 0.7 ms, nostr-tools' pure JS in about 5.7 ms, which
// was 42 % of an agent's time (bench/README.md, agent). Until the wasm module has loaded, pure JS signs.
let wasm: Nostr | undefined
/** Resolves once the fast signer is loaded (or failed to load, leaving pure JS). */
export const signingReady: Promise<void> = initNostrWasm().then(
  w => void (wasm = w),
  () => undefined,
)

/** A signer for a secret key given as 64 hex characters or an nsec. */
export function signerFrom(secret: string): Signer {
  const text = secret.trim()
  let hex: string
  if (/^[0-9a-fA-F]{64}$/.test(text)) hex = text.toLowerCase()
  else if (text.startsWith('nsec1')) {
    try {
      hex = bytesToHex(decode(text as `nsec1${string}`).data)
    } catch {
      throw new ClientError('the key is not a valid nsec')
    }
  } else throw new ClientError('a key must be 64 hex characters or an nsec')
  const sk = hexToBytes(hex)
  const pubkey = getPublicKey(sk)
  const sign = (t: EventTemplate): NostrEvent => {
    if (!wasm) return finalizeEvent(t, sk) as NostrEvent
    const e = { ...t, pubkey: '', id: '', sig: '' }
    wasm.finalizeEvent(e, sk)
    return e
  }
  return { pubkey, secretHex: hex, sign }
}

/** The signer in `file`; with `create`, a fresh key is written there first (mode 0600) when it does not exist. */
export function loadKeyFile(file: string, o: { create?: boolean } = {}): Signer {
  if (!existsSync(file)) {
    if (!o.create) throw new ClientError(`key file ${file} does not exist`)
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, bytesToHex(generateSecretKey()) + '\n', { mode: 0o600, flag: 'wx' })
  }
  // A key others can read is a key others may hold: refuse it, as ssh does.
  if ((statSync(file).mode & 0o077) !== 0) throw new ClientError(`key file ${file} is readable by others: chmod 600 it`)
  try {
    return signerFrom(readFileSync(file, 'utf8'))
  } catch (err) {
    if (err instanceof ClientError) throw new ClientError(`key file ${file}: ${err.message}`)
    throw err
  }
}

/** A pubkey given as 64 hex characters or an npub, as hex. */
export function parsePubkey(text: string): string {
  const t = text.trim()
  if (/^[0-9a-fA-F]{64}$/.test(t)) return t.toLowerCase()
  if (t.startsWith('npub1')) {
    try {
      return decode(t as `npub1${string}`).data
    } catch {
      // fall through to the message below
    }
  }
  throw new ClientError(`"${text}" is not a pubkey (64 hex characters or an npub)`)
}
