// Cashu fixtures built on cashu-ts's own mint-side crypto: keysets with private keys, proofs issued through the real
// blind-signature protocol (NUT-00) with NUT-12 DLEQs, NUT-10 P2PK secrets, and a loopback mint serving keys.
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  blindMessage,
  createBlindSignature,
  createDLEQProof,
  createRandomSecretKey,
  deriveKeysetId,
  getPubKeyFromPrivKey,
  pointFromHex,
  unblindSignature,
} from '@cashu/cashu-ts'
import type { CashuProof, Keyset } from '../../nips/nip61.js'

/** A keyset with the mint's private key per amount. */
export type MintKeyset = Keyset & {
  readonly privKeys: Readonly<Record<string, Uint8Array>>
  readonly input_fee_ppk?: number
}

export type MintKeysOptions = {
  /** Keyset unit; sat by default. */
  readonly unit?: string
  /** Id form: "01" + 64 hex (NUT-02 V2, the default) or "00" + 14 hex (V1). */
  readonly idPrefix?: '00' | '01'
  /** Input fee, committed in a 01 id. */
  readonly inputFeePpk?: number
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** New random mint keys for `amounts` (1 to 128 by default), with the id cashu-ts derives for them. */
export function makeMintKeys(amounts: number[] = [1, 2, 4, 8, 16, 32, 64, 128], o: MintKeysOptions = {}): MintKeyset {
  const unit = o.unit ?? 'sat'
  const privKeys: Record<string, Uint8Array> = {}
  const keys: Record<string, string> = {}
  for (const a of amounts) {
    privKeys[a] = createRandomSecretKey()
    keys[a] = hex(getPubKeyFromPrivKey(privKeys[a]))
  }
  const id = deriveKeysetId(keys, { unit, versionByte: o.idPrefix === '00' ? 0 : 1, input_fee_ppk: o.inputFeePpk })
  return { id, unit, keys, privKeys, ...(o.inputFeePpk ? { input_fee_ppk: o.inputFeePpk } : {}) }
}

/**
 * Proofs for `amounts`, one each, with `secret(i)` as the i-th secret: the wallet blinds, the mint signs and proves
 * the signature (DLEQ), the wallet unblinds and keeps r so that third parties can check the DLEQ.
 */
export function issueProofs(ks: MintKeyset, amounts: number[], secret: (i: number) => string): CashuProof[] {
  return amounts.map((amount, i) => {
    const priv = ks.privKeys[amount]
    if (!priv) throw new Error(`keyset ${ks.id} has no key for ${amount}`)
    const s = secret(i)
    const { B_, r } = blindMessage(new TextEncoder().encode(s))
    const { C_ } = createBlindSignature(B_, priv, ks.id)
    const dleq = createDLEQProof(B_, priv)
    const C = unblindSignature(C_, r, pointFromHex(ks.keys[amount]!))
    return {
      id: ks.id,
      amount,
      secret: s,
      C: C.toHex(true),
      dleq: { e: hex(dleq.e), s: hex(dleq.s), r: r.toString(16).padStart(64, '0') },
    }
  })
}

/** A NUT-10 P2PK secret locking to `pubkey` (hex as given), with a random nonce and optional NUT-11 tags. */
export function p2pkSecret(pubkey: string, tags: string[][] = []): string {
  return JSON.stringify(['P2PK', { nonce: randomBytes(32).toString('hex'), data: pubkey, tags }])
}

export type MintServer = {
  /** http://127.0.0.1:<port>, no trailing slash. */
  readonly url: string
  /** Requests served so far, by path. */
  readonly requests: Map<string, number>
  close(): Promise<void>
}

/** A keyset as a mint lists it: NUT-02 adds the input fee. */
export type ServedKeyset = Keyset & { readonly input_fee_ppk?: number }

export type MintServerOptions = {
  /** Accept requests and never answer them. */
  readonly hang?: boolean
  /** Replaces the body of every `/v1/keys/{id}` answer (a mint that lies about which keyset it sends). */
  readonly keysAnswer?: (id: string) => unknown
  /** The body of `GET /v1/info` (NUT-06); not served when absent. */
  readonly info?: unknown
}

/**
 * A loopback mint serving `GET /v1/keys/{id}` (NUT-01) and `GET /v1/keysets` (NUT-02) for `keysets`, exactly as
 * given (so a test can serve keys under an id they do not derive to), and `GET /v1/info` when given.
 */
export async function startMintServer(keysets: ServedKeyset[], opts: MintServerOptions = {}): Promise<MintServer> {
  const requests = new Map<string, number>()
  const meta = (k: ServedKeyset) => ({
    id: k.id,
    unit: k.unit,
    active: true,
    input_fee_ppk: k.input_fee_ppk ?? 0,
  })
  const server = createServer((req, res) => {
    const path = req.url ?? ''
    requests.set(path, (requests.get(path) ?? 0) + 1)
    if (opts.hang) return
    const send = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    if (path === '/v1/keysets') return send(200, { keysets: keysets.map(meta) })
    if (path === '/v1/info' && opts.info !== undefined) return send(200, opts.info)
    const id = path.startsWith('/v1/keys/') ? path.slice('/v1/keys/'.length) : undefined
    if (id !== undefined && opts.keysAnswer) return send(200, opts.keysAnswer(id))
    const ks = id !== undefined && keysets.find(k => k.id === id)
    if (!ks) return send(404, { code: 12001, detail: 'keyset not found' })
    send(200, { keysets: [{ ...meta(ks), keys: ks.keys }] })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
