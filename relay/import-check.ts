// The checks `agora import` runs on each line of its file before the writer sees it: JSON, the NIP-01 shape, the id,
// the kinds and expiry the relay refuses, and the signature. They run on the verification workers (DESIGN §11).
import {
  canonicalJson,
  checkEventShape,
  checkId,
  formatRejection,
  isEphemeralKind,
  type NostrEvent,
  type Rejection,
  reject,
} from '../nips/nip01.js'
import { isExpired } from '../nips/nip40.js'
import type { Verifier } from './verifier.js'

/** A chunk of lines checked: the canonical JSON of those that pass, and why the others were refused. */
export type CheckedLines = {
  /** How many lines the chunk held, blank ones included: the next chunk's numbering starts after them. */
  readonly lines: number
  /** The events' canonical JSON, in file order. */
  readonly raws: string[]
  /** For each of `raws`, its line's index in the chunk (0 for the first line). */
  readonly at: Uint32Array
  /** Refused lines: index in the chunk and `prefix: reason`. */
  readonly refused: [index: number, message: string][]
}

/** What a check needs besides the lines: the clock for expiry, and the verifier unless signatures are skipped. */
export type LineRules = { readonly now: number; readonly verifier: Verifier | undefined }

/** The canonical JSON of one line's event, or why it is refused. */
function checkLine(line: string, rules: LineRules): string | Rejection {
  let e: unknown
  try {
    e = JSON.parse(line)
  } catch {
    return reject('invalid', 'not valid JSON')
  }
  const bad = checkEventShape(e) ?? checkId(e as NostrEvent)
  if (bad) return bad
  const ev = e as NostrEvent
  if (isEphemeralKind(ev.kind)) return reject('invalid', 'ephemeral events are not stored')
  if (isExpired(ev, rules.now)) return reject('invalid', 'event has expired (NIP-40)')
  if (rules.verifier && !rules.verifier.verify(ev)) return reject('invalid', 'signature does not verify')
  return canonicalJson(ev)
}

/** Checks the lines of `text` (whole lines of the file, each ending in `\n` but maybe the last). */
function checkLines(text: string, rules: LineRules): CheckedLines {
  const lines = text.split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  const raws: string[] = []
  const at = new Uint32Array(lines.length)
  const refused: [number, string][] = []
  lines.forEach((l, i) => {
    // A CRLF file's lines end in \r, which readline dropped as the old import did.
    const line = l.endsWith('\r') ? l.slice(0, -1) : l
    if (line.trim() === '') return
    const raw = checkLine(line, rules)
    if (typeof raw !== 'string') return void refused.push([i, formatRejection(raw)])
    at[raws.length] = i
    raws.push(raw)
  })
  // A copy: a view would carry its whole buffer across threads.
  return { lines: lines.length, raws, at: at.slice(0, raws.length), refused }
}

/** Checks a chunk of the file as its bytes (whole lines), decoded where the check runs. */
export const checkChunk = (bytes: Uint8Array, rules: LineRules): CheckedLines =>
  checkLines(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), rules)
