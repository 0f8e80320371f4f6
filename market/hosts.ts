// Which hosts the market may fetch from (LNURL servers, mints): public domain names, and loopback only when
// the operator allows it (`market.allow_loopback`, for tests and local development). IP literals and
// single-label names are refused: a provider's lightning address or 10019 mint could otherwise point the
// relay at its own network.

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/

/** A public domain: two or more labels, not an IP literal (RFC 3696: the TLD is not all-numeric). */
export function isPublicDomain(host: string): boolean {
  const labels = host.split('.')
  return host.length <= 253 && labels.length >= 2 && labels.every(l => LABEL.test(l)) && !/^\d+$/.test(labels.at(-1)!)
}

/** A loopback host as a URL names it (`[::1]` with its brackets). */
export const isLoopbackHost = (host: string): boolean => /^(?:127\.0\.0\.1|localhost|\[::1\])$/.test(host)

/** True when the market may fetch from this host (lowercase, without port). */
export const fetchableHost = (host: string, allowLoopback: boolean): boolean =>
  isPublicDomain(host) || (allowLoopback && isLoopbackHost(host))
