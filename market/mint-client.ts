// The pluggable mint client: how agora asks a Cashu mint for a keyset (NUT-01 `GET /v1/keys/{id}`). The answer is
// checked against the id it was asked for, by re-deriving the id from the keys (NUT-02), so a mint cannot serve
// other keys under an id a proof names. No cache here: keysets never change for an id, so the caller caches them.
//
// Verified id versions: "00" + 14 hex (NUT-02 V1: keys only) and "01" + 64 hex (V2: keys, unit, input_fee_ppk and
// final_expiry, read from the same answer). The unit of a V1 keyset is the mint's word, since V1 ids do not commit to
// it. Refused: legacy base64 ids, short (16-hex) forms of V2 ids, and any other version.
import { deriveKeysetId } from '@cashu/cashu-ts'
import type { Keyset } from '../nips/nip61.js'

/** What a mint says it supports (NUT-06 `GET /v1/info`). */
export type MintInfo = { readonly nuts: readonly number[] }

/** A proof's state at the mint (NUT-07), by its Y; a spent proof's witness holds the signatures that spent it. */
export type ProofState = {
  readonly Y: string
  readonly state: 'UNSPENT' | 'PENDING' | 'SPENT'
  readonly witness?: string
}

/**
 * Fetches a mint's keyset by id (rejecting with an Error saying why when it cannot return a verified one),
 * its info, and the states of proofs.
 */
export type MintClient = {
  keyset(mint: string, id: string): Promise<Keyset>
  info(mint: string): Promise<MintInfo>
  checkstate(mint: string, ys: readonly string[]): Promise<ProofState[]>
}

const V1 = /^00[0-9a-f]{14}$/
const V2 = /^01[0-9a-f]{64}$/
const AMOUNT = /^[1-9][0-9]*$/
const PUBKEY = /^0[23][0-9a-f]{64}$/

type KeysAnswer = {
  id: string
  unit: string
  keys: Record<string, string>
  input_fee_ppk?: number
  final_expiry?: number
}

/** The keyset named `id` in a NUT-01 answer, when it is well formed. */
function findKeyset(body: unknown, id: string): KeysAnswer | undefined {
  const keysets = (body as { keysets?: unknown } | null)?.keysets
  if (!Array.isArray(keysets)) return undefined
  const ks = keysets.find((k: { id?: unknown } | null) => k?.id === id) as Partial<KeysAnswer> | undefined
  if (!ks || typeof ks.unit !== 'string' || ks.unit === '' || typeof ks.keys !== 'object' || ks.keys === null)
    return undefined
  const entries = Object.entries(ks.keys)
  if (entries.length === 0 || !entries.every(([a, k]) => AMOUNT.test(a) && typeof k === 'string' && PUBKEY.test(k)))
    return undefined
  return ks as KeysAnswer
}

/** The id the keys derive to, under the version `id` claims. */
function derivedId(ks: KeysAnswer): string {
  if (V1.test(ks.id)) return deriveKeysetId(ks.keys, { versionByte: 0 })
  return deriveKeysetId(ks.keys, {
    versionByte: 1,
    unit: ks.unit,
    input_fee_ppk: ks.input_fee_ppk,
    expiry: ks.final_expiry,
  })
}

/** The Error for a request that failed or timed out. */
const failure = (url: string, timeoutMs: number, err: unknown) =>
  new Error(
    (err as Error | null)?.name === 'TimeoutError'
      ? `${url} did not answer within ${timeoutMs} ms`
      : `${url} failed: ${err instanceof Error ? err.message : String(err)}`,
    { cause: err },
  )

/** The NUTs a NUT-06 answer lists as supported: `supported: true`, or for NUT-4/5 not `disabled`. */
function supportedNuts(body: unknown): number[] {
  const nuts = (body as { nuts?: unknown } | null)?.nuts
  if (typeof nuts !== 'object' || nuts === null) return []
  return Object.entries(nuts as Record<string, { supported?: unknown; disabled?: unknown } | null>)
    .filter(([n, v]) => /^\d{1,3}$/.test(n) && (v?.supported === true || v?.disabled === false))
    .map(([n]) => Number(n))
}

/** GETs (or POSTs `body` as) JSON from a mint within `timeoutMs`; rejects with an Error saying what failed. */
async function getJson(url: string, timeoutMs: number, body?: unknown): Promise<unknown> {
  const post =
    body === undefined
      ? {}
      : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
  // One signal for the whole exchange: a mint that stalls mid-body times out as one that never answers.
  const res = await fetch(url, { ...post, signal: AbortSignal.timeout(timeoutMs) }).catch(err =>
    Promise.reject(failure(url, timeoutMs, err)),
  )
  if (!res.ok) {
    await res.body?.cancel()
    throw new Error(`${url} answered HTTP ${res.status}`)
  }
  return res.json().catch(err => Promise.reject(failure(url, timeoutMs, err)))
}

/** A mint client over HTTP; each request gives up after `timeoutMs`. */
export function httpMintClient(opts: { timeoutMs: number }): MintClient {
  return {
    info: async mint => ({ nuts: supportedNuts(await getJson(`${mint}/v1/info`, opts.timeoutMs)) }),
    async checkstate(mint, ys) {
      const url = `${mint}/v1/checkstate`
      const states = ((await getJson(url, opts.timeoutMs, { Ys: ys })) as { states?: unknown } | null)?.states
      const valid = (s: Partial<ProofState> | null) =>
        typeof s?.Y === 'string' &&
        ['UNSPENT', 'PENDING', 'SPENT'].includes(s.state ?? '') &&
        (s.witness === undefined || s.witness === null || typeof s.witness === 'string')
      // NUT-07 answers in the order asked; a state for another Y says nothing about ours.
      const ours = (s: Partial<ProofState> | null, i: number) => valid(s) && s!.Y === ys[i]
      if (!Array.isArray(states) || states.length !== ys.length || !states.every(ours))
        throw new Error(`${url} did not return a state for each proof, in order, as {states: [{Y, state, witness}]}`)
      return (states as ProofState[]).map(({ Y, state, witness }) => ({ Y, state, ...(witness ? { witness } : {}) }))
    },
    async keyset(mint, id) {
      if (!V1.test(id) && !V2.test(id))
        throw new Error(`keyset id ${id} is not a verifiable version (00 + 14 hex or 01 + 64 hex)`)
      const url = `${mint}/v1/keys/${id}`
      const ks = findKeyset(await getJson(url, opts.timeoutMs), id)
      if (!ks) throw new Error(`${url} did not return keyset ${id} as {keysets: [{id, unit, keys}]}`)
      if (derivedId(ks) !== id) throw new Error(`${url} returned keys that do not derive to keyset id ${id}`)
      // The input fee of a 01 id is verified (the id commits to it); of a 00 id it is the mint's word.
      const fee = ks.input_fee_ppk ?? 0
      return { id, unit: ks.unit, keys: ks.keys, ...(fee > 0 ? { input_fee_ppk: fee } : {}) }
    },
  }
}
