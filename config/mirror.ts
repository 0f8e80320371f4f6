// The [[mirror]] entries (DESIGN §11, mirroring): an upstream relay, what to take from it, and its bounds.
import { compileFilter } from '../nips/nip01-filter.js'
import { int, kindList, object, str, tables } from './fields.js'

// The market's kinds (issue 20): requests, results and feedback, reports, handlers, heartbeats, wallets, zaps, nutzaps.
const MIRROR_KINDS = ['5000-7000', '1984', '31990', '30333', '10019', '9735', '9321']

/** What is wrong with the extra filter conditions, if anything: kinds have their own key, a limit makes no sense. */
function filterProblem(f: Readonly<Record<string, unknown>>): string | undefined {
  if ('kinds' in f) return 'kinds go in the entry’s own `kinds` key (ranges allowed), not in the filter'
  if ('limit' in f) return 'a mirror takes everything the filter matches: no limit'
  const compiled = compileFilter(f, { maxValues: 100_000 })
  return 'prefix' in compiled ? compiled.reason : undefined
}

export const mirror = tables(
  'Upstream relays whose events this relay copies and keeps copying: one [[mirror]] table each (see README, Mirroring).',
  {
    url: str('', 'The upstream’s WebSocket URL (ws:// or wss://). Required.'),
    kinds: kindList(
      MIRROR_KINDS,
      'Kinds to mirror: single kinds and ranges, asked for in filters of at most 500 kinds.',
    ),
    filter: object(
      {},
      'More NIP-01 filter conditions every mirrored event must meet (authors, #tags, since, until).',
      filterProblem,
    ),
    events_per_minute: int(
      1200,
      'Budget: events taken from this upstream per minute (a bucket of this size); past it the upstream is dropped for a backoff.',
      1,
      1_000_000,
    ),
    max_backlog: int(
      1000,
      'Events from this upstream waiting for their signature check and the writer; past it the upstream is dropped for a backoff.',
      1,
      1_000_000,
    ),
    catch_up_interval: int(
      300,
      'Seconds between catch-ups (NIP-77, else a REQ since the position) besides the one at each connect; 0 = only at connect.',
      0,
      86_400,
    ),
  },
  ['url'],
  e =>
    /^wss?:\/\/\S+$/.test(e['url'] as string) && URL.canParse(e['url'] as string)
      ? undefined
      : `url ${JSON.stringify(e['url'])} must be a ws:// or wss:// URL`,
)
