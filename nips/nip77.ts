// NIP-77 (negentropy v1): the relay's side of a session's set, packed. nostr-tools' `Negentropy` drives the protocol
// over any storage with `NegentropyStorageVector`'s methods; its own vector keeps an object per item and sums a
// range's ids on every fingerprint. This one keeps 40 bytes an item and the running sums of the ids (mod 2^256), so
// a fingerprint is a subtraction and a sha256 whatever the range's size. Pure: built from (created_at, id) pairs.
import { createHash } from 'node:crypto'

const ID = 32
const LIMBS = 8

type Item = { timestamp: number; id: Uint8Array }

/** -1, 0 or 1 as `a` sorts before, with or after `b`: bytes in order, a prefix first (ids in bounds may be short). */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}

/** NIP-77's varint: base 128, most significant group first, the high bit set on all but the last. */
function varint(n: number): Buffer {
  const out = [n & 127]
  for (n = Math.floor(n / 128); n > 0; n = Math.floor(n / 128)) out.unshift((n & 127) | 128)
  return Buffer.from(out)
}

/** A sealed, sorted set of (timestamp, id), deduplicated, with prefix sums of the ids as little-endian u256. */
export class PackedStorage {
  private readonly timestamps: Float64Array
  private readonly ids: Uint8Array
  /** sums[i] = ids[0] + ... + ids[i-1] mod 2^256, as 8 little-endian u32 limbs. */
  private readonly sums: Uint32Array
  readonly sealed = true

  /** From pairs in any order (ids as lowercase hex); the same id twice is kept once. */
  constructor(pairs: Iterable<readonly [timestamp: number, id: string]>) {
    // Sorted as strings: lowercase hex sorts as its bytes do, and a million pairs sort in a fraction of the time
    // their decoded ids would (nothing is allocated per item but the pair itself).
    const items = Array.isArray(pairs) ? [...(pairs as (readonly [number, string])[])] : [...pairs]
    items.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    const timestamps = new Float64Array(items.length)
    const ids = Buffer.alloc(items.length * ID)
    let n = 0
    let last: string | undefined
    for (const [timestamp, id] of items) {
      if (id === last) continue // sorted, so a repeat is next to its first
      if (id.length !== ID * 2 || ids.write(id, n * ID, 'hex') !== ID)
        throw new Error(`id ${id} is not 32 bytes of hex`)
      timestamps[n++] = timestamp
      last = id
    }
    this.timestamps = timestamps.subarray(0, n)
    this.ids = ids.subarray(0, n * ID)
    this.sums = new Uint32Array((n + 1) * LIMBS)
    const view = new DataView(ids.buffer, ids.byteOffset, n * ID)
    for (let i = 0; i < n; i++) {
      let carry = 0
      for (let l = 0; l < LIMBS; l++) {
        const v = this.sums[i * LIMBS + l]! + view.getUint32(i * ID + l * 4, true) + carry
        this.sums[(i + 1) * LIMBS + l] = v >>> 0
        carry = v > 0xffffffff ? 1 : 0
      }
    }
  }

  size(): number {
    return this.timestamps.length
  }

  getItem(i: number): Item {
    if (i >= this.size()) throw new Error('out of range')
    return { timestamp: this.timestamps[i]!, id: this.ids.subarray(i * ID, (i + 1) * ID) }
  }

  iterate(begin: number, end: number, cb: (item: Item, i: number) => boolean): void {
    this.checkBounds(begin, end)
    for (let i = begin; i < end; i++) if (!cb(this.getItem(i), i)) break
  }

  /** The first index in [begin, end) whose item is not below `bound`. */
  findLowerBound(begin: number, end: number, bound: Item): number {
    this.checkBounds(begin, end)
    while (begin < end) {
      const mid = (begin + end) >>> 1
      const t = this.timestamps[mid]!
      const below = t < bound.timestamp || (t === bound.timestamp && compareBytes(this.getItem(mid).id, bound.id) < 0)
      if (below) begin = mid + 1
      else end = mid
    }
    return begin
  }

  /** sha256 of (the range's id sum, little-endian, then its count as a varint), first 16 bytes. */
  fingerprint(begin: number, end: number): Uint8Array {
    this.checkBounds(begin, end)
    const sum = Buffer.alloc(ID)
    let borrow = 0
    for (let l = 0; l < LIMBS; l++) {
      const v = this.sums[end * LIMBS + l]! - this.sums[begin * LIMBS + l]! - borrow
      sum.writeUInt32LE(v >>> 0, l * 4)
      borrow = v < 0 ? 1 : 0
    }
    const hash = createHash('sha256')
      .update(sum)
      .update(varint(end - begin))
      .digest()
    return new Uint8Array(hash.buffer, hash.byteOffset, 16)
  }

  private checkBounds(begin: number, end: number): void {
    if (begin > end || end > this.size()) throw new Error('bad range')
  }
}

const VERSION = 0x61
const FINGERPRINT = 16
const enum Mode {
  Skip = 0,
  Fingerprint = 1,
  IdList = 2,
}
/** The bound past every item ("infinity", timestamp 0 on the wire). */
const INFINITY = Number.MAX_VALUE
const BUCKETS = 16

type Bound = { readonly timestamp: number; readonly id: Uint8Array }

/** Reads a message front to back. */
class Reader {
  private at = 0
  constructor(private readonly buf: Buffer) {}
  get done(): boolean {
    return this.at >= this.buf.length
  }
  byte(): number {
    if (this.done) throw new Error('message ends early')
    return this.buf[this.at++]!
  }
  varint(): number {
    let n = 0
    for (;;) {
      const b = this.byte()
      n = n * 128 + (b & 127)
      if (n > Number.MAX_SAFE_INTEGER) throw new Error('varint too large')
      if ((b & 128) === 0) return n
    }
  }
  bytes(n: number): Uint8Array {
    if (this.at + n > this.buf.length) throw new Error('message ends early')
    const out = this.buf.subarray(this.at, this.at + n)
    this.at += n
    return out
  }
}

/**
 * The relay's side of a negentropy v1 session (the responder): answers each message of the client's with the
 * fingerprints of the ranges that differ, split in 16, and its ids where a range is small, so the client learns
 * both what it has and what it needs. nostr-tools' `Negentropy.reconcile` plays only the initiator (it answers an
 * id list with nothing), so the relay cannot use it. Message sizes stay under `frameSizeLimit` bytes: past it the
 * rest of the set is sent as one fingerprint for the next round.
 */
export class Responder {
  private lastIn = 0
  private lastOut = 0

  constructor(
    private readonly storage: PackedStorage,
    private readonly frameSizeLimit = 60_000,
  ) {
    if (frameSizeLimit < 4096) throw new Error('frameSizeLimit too small')
  }

  /** The answer to one message, as hex; a message of another protocol version gets ours alone (NIP-77). */
  reconcile(queryHex: string): string {
    const query = new Reader(Buffer.from(queryHex, 'hex'))
    this.lastIn = this.lastOut = 0
    const out: Buffer[] = [Buffer.from([VERSION])]
    let outSize = 1
    const version = query.byte()
    if (version < 0x60 || version > 0x6f) throw new Error('invalid negentropy protocol version byte')
    if (version !== VERSION) return Buffer.from([VERSION]).toString('hex')
    const size = this.storage.size()
    let prevIndex = 0
    let prevBound: Bound = { timestamp: 0, id: new Uint8Array(0) }
    let skip = false
    while (!query.done) {
      const o: Buffer[] = []
      const doSkip = () => {
        if (!skip) return
        skip = false
        o.push(this.bound(prevBound), varint(Mode.Skip))
      }
      const currBound = this.readBound(query)
      const mode = query.varint()
      const lower = prevIndex
      let upper = this.storage.findLowerBound(prevIndex, size, currBound)
      if (mode === Mode.Skip) skip = true
      else if (mode === Mode.Fingerprint) {
        const theirs = query.bytes(FINGERPRINT)
        if (Buffer.compare(theirs, this.storage.fingerprint(lower, upper)) !== 0) {
          doSkip()
          this.splitRange(lower, upper, currBound, o)
        } else skip = true
      } else if (mode === Mode.IdList) {
        const n = query.varint()
        query.bytes(n * ID)
        // Our ids of the range, as many as fit; the rest of the range comes back as a fingerprint.
        doSkip()
        const ids: Uint8Array[] = []
        let endBound = currBound
        for (let i = lower; i < upper; i++) {
          if (this.exceeds(outSize + ids.length * ID)) {
            endBound = this.storage.getItem(i)
            upper = i
            break
          }
          ids.push(this.storage.getItem(i).id)
        }
        o.push(this.bound(endBound), varint(Mode.IdList), varint(ids.length), ...ids.map(id => Buffer.from(id)))
        // Sent whatever follows: the ids said are part of this answer, and the range now ends where they stop.
        for (const b of o.splice(0)) {
          out.push(b)
          outSize += b.length
        }
      } else throw new Error('unexpected mode')
      const oSize = o.reduce((n, b) => n + b.length, 0)
      if (this.exceeds(outSize + oSize)) {
        out.push(
          this.bound({ timestamp: INFINITY, id: new Uint8Array(0) }),
          varint(Mode.Fingerprint),
          Buffer.from(this.storage.fingerprint(upper, size)),
        )
        break
      }
      out.push(...o)
      outSize += oSize
      prevIndex = upper
      prevBound = currBound
    }
    return Buffer.concat(out).toString('hex')
  }

  private exceeds(n: number): boolean {
    return n > this.frameSizeLimit - 200
  }

  private splitRange(lower: number, upper: number, upperBound: Bound, o: Buffer[]): void {
    const n = upper - lower
    if (n < BUCKETS * 2) {
      o.push(this.bound(upperBound), varint(Mode.IdList), varint(n))
      for (let i = lower; i < upper; i++) o.push(Buffer.from(this.storage.getItem(i).id))
      return
    }
    const per = Math.floor(n / BUCKETS)
    const extra = n % BUCKETS
    let curr = lower
    for (let i = 0; i < BUCKETS; i++) {
      const size = per + (i < extra ? 1 : 0)
      const fp = this.storage.fingerprint(curr, curr + size)
      curr += size
      const next =
        curr === upper ? upperBound : minimalBound(this.storage.getItem(curr - 1), this.storage.getItem(curr))
      o.push(this.bound(next), varint(Mode.Fingerprint), Buffer.from(fp))
    }
  }

  private bound(b: Bound): Buffer {
    return Buffer.concat([this.timestampOut(b.timestamp), varint(b.id.length), b.id])
  }

  /** Timestamps go out as the difference from the previous one, plus one; 0 is infinity. */
  private timestampOut(t: number): Buffer {
    if (t === INFINITY) {
      this.lastOut = INFINITY
      return varint(0)
    }
    const delta = t - this.lastOut
    this.lastOut = t
    return varint(delta + 1)
  }

  private readBound(r: Reader): Bound {
    let t = r.varint()
    t = t === 0 ? INFINITY : t - 1
    if (this.lastIn === INFINITY || t === INFINITY) this.lastIn = t = INFINITY
    else this.lastIn = t = t + this.lastIn
    const len = r.varint()
    if (len > ID) throw new Error('bound key too long')
    return { timestamp: t, id: r.bytes(len) }
  }
}

/** The shortest bound between two neighbours: the later one's timestamp, and as much of its id as tells them apart. */
function minimalBound(prev: Item, curr: Item): Bound {
  if (curr.timestamp !== prev.timestamp) return { timestamp: curr.timestamp, id: new Uint8Array(0) }
  let shared = 0
  while (shared < ID && curr.id[shared] === prev.id[shared]) shared++
  return { timestamp: curr.timestamp, id: curr.id.subarray(0, shared + 1) }
}
