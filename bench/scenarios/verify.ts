// verify: what one signature check costs with each verifier backend present here (relay/verifier.ts), through the
// same Verifier a worker uses (hex decoding included), in this process. The backends take turns on the same
// events, the order reversed every round, so that a neighbour's load falls on all of them alike; medians of the
// rounds. Also the relay key's signing (relay/identity.ts), native or not. No relay, no --url.
import { bulkSigner, type Template } from '../bulk-sign.js'
import { ownTempDir } from '../cleanup.js'
import { loadIdentity } from '../../relay/identity.js'
import { loadNative, makeVerifier, type Verifier, type VerifierBackend } from '../../relay/verifier.js'
import type { Ctx, Outcome } from '../scenario.js'
import { median, round, table } from '../stats.js'

export type VerifyOptions = { events: number; rounds: number }

type Row = { backend: string; checked: number; usPerVerify: number; min: number; max: number }

const BACKENDS: readonly VerifierBackend[] = ['native', 'wasm', 'noble']

export async function verify(ctx: Ctx, o: VerifyOptions): Promise<Outcome> {
  const keys = Array.from({ length: 16 }, () => bulkSigner())
  const templates = (k: number): Template[] =>
    Array.from({ length: Math.ceil(o.events / keys.length) }, (_, i) => ({
      kind: 1,
      created_at: 1_700_000_000 + i,
      tags: [['t', `${k}`]],
      content: `verify bench ${k}.${i}`,
    }))
  const events = keys.flatMap((k, i) => k.signAll(templates(i))).slice(0, o.events)
  const native = loadNative()
  if (native instanceof Error) ctx.log(`native skipped: ${native.message}`)
  const verifiers: Verifier[] = []
  for (const b of BACKENDS) if (b !== 'native' || !(native instanceof Error)) verifiers.push(await makeVerifier(b))
  // Pure JS takes about 30 times longer: a tenth of the events keeps a round short and still thousands of checks.
  const count = (v: Verifier) => (v.name === 'noble' ? Math.max(1, Math.floor(o.events / 10)) : o.events)
  for (const v of verifiers)
    for (const e of events.slice(0, 100)) if (!v.verify(e)) throw new Error(`${v.name} refused a valid event`)
  const times = new Map(verifiers.map(v => [v.name, [] as number[]]))
  for (let r = 0; r < o.rounds; r++) {
    for (const v of r % 2 ? [...verifiers].reverse() : verifiers) {
      const n = count(v)
      const started = performance.now()
      for (let i = 0; i < n; i++) if (!v.verify(events[i]!)) throw new Error(`${v.name} refused a valid event`)
      times.get(v.name)!.push(((performance.now() - started) * 1000) / n)
    }
    ctx.log(`round ${r + 1}: ${[...times].map(([name, t]) => `${name} ${round(t.at(-1)!)} µs`).join(', ')}`)
  }
  const rows: Row[] = verifiers.map(v => {
    const t = times.get(v.name)!
    return {
      backend: v.name,
      checked: count(v),
      usPerVerify: round(median(t)),
      min: round(Math.min(...t)),
      max: round(Math.max(...t)),
    }
  })
  const { dir, remove } = ownTempDir('agora-bench-verify-')
  let signUs: number
  try {
    const id = await loadIdentity('', dir)
    const n = Math.max(100, Math.floor(o.events / 10))
    const started = performance.now()
    for (let i = 0; i < n; i++) id.sign({ kind: 31118, created_at: 1_700_000_000, tags: [['d', `${i}`]], content: '' })
    signUs = round(((performance.now() - started) * 1000) / n)
  } finally {
    remove()
  }
  const signer = native instanceof Error ? 'wasm' : 'native'
  return {
    results: { rows, sign: { backend: signer, usPerEvent: signUs } },
    table:
      table(
        ['backend', 'events per round', 'µs per verify (median)', 'min', 'max'],
        rows.map(r => [r.backend, r.checked, r.usPerVerify, r.min, r.max]),
      ) + `\nrelay key signing (${signer}, id hashing included): ${signUs} µs per event`,
  }
}
