// The relay's own key (DESIGN §6): configured, or created once in the data dir with mode 0600.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { finalizeEvent, generateSecretKey, getPublicKey, type EventTemplate } from 'nostr-tools/pure'
import { bytesToHex, hexToBytes } from '@noble/curves/utils.js'
import { initNostrWasm } from 'nostr-wasm'
import { randomBytes } from 'node:crypto'
import { computeId, isHex64, type NostrEvent } from '../nips/nip01.js'
import { loadNative } from './verifier.js'
import { coSign, type SigAllSigningPackage } from '../market/packages.js'

export type Identity = {
  readonly pubkey: string
  /** Signs an event template with the relay key. */
  sign(t: EventTemplate): NostrEvent
  /** Adds the relay's signature to an escrow package (DESIGN §7.5), serialized. */
  coSign(pkg: SigAllSigningPackage): string
}

/** Path of the key file inside a data dir. */
export const keyFile = (dataDir: string) => join(dataDir, 'relay.key')

/** Writes a fresh key to the data dir (mode 0600); refuses to overwrite unless `force`. Returns its pubkey. */
export function createKeyFile(dataDir: string, force = false): string {
  const file = keyFile(dataDir)
  if (existsSync(file) && !force) throw new Error(`${file} exists; pass --force to replace it`)
  mkdirSync(dataDir, { recursive: true })
  const sk = generateSecretKey()
  // Written beside and renamed over: a crash never leaves half a key, and a replaced key gets mode 0600
  // whatever the old file's was (a mode applies only to a file being created).
  const tmp = `${file}.tmp`
  rmSync(tmp, { force: true })
  writeFileSync(tmp, bytesToHex(sk) + '\n', { mode: 0o600 })
  renameSync(tmp, file)
  return getPublicKey(sk)
}

/** The configured key, else the data dir's key file's; '' when there is neither. */
function storedSecret(secretKeyHex: string, dataDir: string): string {
  const hex = secretKeyHex.trim()
  if (hex || !existsSync(keyFile(dataDir))) return hex
  return readFileSync(keyFile(dataDir), 'utf8').trim()
}

/** The relay's pubkey, read without creating a key (for commands beside a running relay); undefined without one. */
export function readPubkey(secretKeyHex: string, dataDir: string): string | undefined {
  const hex = storedSecret(secretKeyHex, dataDir)
  return isHex64(hex) ? getPublicKey(hexToBytes(hex)) : undefined
}

/**
 * Loads the configured key, or the data dir's key file, creating it on first start. The market signs an
 * output per delivered job, so signing takes the fastest backend that loads, as verification does: measured
 * here, native 0.07-0.1 ms an event (hashing included), nostr-wasm 0.7 ms, pure JS 4-5 ms.
 */
export async function loadIdentity(secretKeyHex: string, dataDir: string): Promise<Identity> {
  if (!secretKeyHex.trim() && !existsSync(keyFile(dataDir))) createKeyFile(dataDir)
  const hex = storedSecret(secretKeyHex, dataDir)
  if (!isHex64(hex)) throw new Error('relay secret key must be 64 lowercase hex characters')
  const sk = hexToBytes(hex)
  const pubkey = getPublicKey(sk)
  const cosign = (pkg: SigAllSigningPackage) => coSign(pkg, hex)
  const native = loadNative()
  if (!(native instanceof Error)) {
    const key = Buffer.from(sk)
    const sign = (t: EventTemplate): NostrEvent => {
      const e = { ...t, pubkey, id: '', sig: '' }
      e.id = computeId(e)
      e.sig = native.sign(Buffer.from(e.id, 'hex'), key, randomBytes(32)).toString('hex')
      return e
    }
    return { pubkey, sign, coSign: cosign }
  }
  const wasm = await initNostrWasm().catch(() => undefined)
  const sign = wasm
    ? (t: EventTemplate): NostrEvent => {
        const e = { ...t, pubkey: '', id: '', sig: '' }
        wasm.finalizeEvent(e, sk)
        return e
      }
    : (t: EventTemplate) => finalizeEvent(t, sk)
  return { pubkey, sign, coSign: cosign }
}
