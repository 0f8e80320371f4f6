// One spelling per address, so a block matches however the socket or a proxy header wrote it: uWS gives IPv6
// in full ("0000:...:0001") and IPv4 on a dual-stack socket as mapped IPv6 ("...:ffff:7f00:0001").
import { isIPv4, isIPv6 } from 'node:net'

/** The address in its short form (IPv4 dotted, IPv6 compressed lowercase, v4-mapped as IPv4), or undefined. */
export function normaliseIp(text: string): string | undefined {
  const s = text.trim()
  if (isIPv4(s)) return s
  // A zone ("fe80::1%eth0") names a local interface: no remote client has one, and URL cannot parse it.
  if (!isIPv6(s) || s.includes('%')) return undefined
  const short = new URL(`http://[${s}]`).hostname.slice(1, -1)
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(short)
  if (!mapped) return short
  const [hi, lo] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)]
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
}
