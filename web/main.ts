// The market page served at `/`: reads the relay over WebSocket with plain REQs through the client library, and
// renders with DOM calls only. Every text a provider wrote is set as text, never parsed as HTML.
import { RelayClient, type Filter, type Subscription } from '../client/relay.js'
import type { NostrEvent } from '../nips/nip01.js'
import { ASSERTION, ATTESTATION, HANDLER, HEARTBEAT, LEDGER, REVIEW, SWARM, WORKFLOW } from '../client/market.js'
import {
  attestationsOf,
  describeJob,
  sats,
  filterRows,
  isJobRequest,
  jobRows,
  Latest,
  paidSeries,
  providerRows,
  relayRules,
  requestSeries,
  resultFacts,
  reviewsOf,
  sortRows,
  totals,
  type JobRow,
  type ProviderRow,
  type Sort,
  type SortKey,
} from './model.js'
import { chart } from './chart.js'

type Info = Record<string, unknown> & { limitation?: Record<string, unknown> }

/** The NIP-11 document the relay embedded in the page, so the page needs no other request. */
const info = JSON.parse(document.getElementById('relay-info')?.textContent ?? '{}') as Info
const relayPubkey = String(info['self'] ?? info['pubkey'] ?? '')

type Child = Node | string | number | undefined | false
/** An element with attributes and children; strings become text nodes. */
function el(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v)
  for (const c of children) if (c !== undefined && c !== false) node.append(typeof c === 'number' ? String(c) : c)
  return node
}

/** A line saying what state a view or a part of it is in (loading, empty, done). */
const note = (text: string): HTMLElement => el('p', { class: 'state' }, text)

/** A two-column table of facts; a row with nothing to say is left out. */
function facts(rows: readonly (readonly [string, Child])[]): HTMLElement {
  const table = el('table', { class: 'facts' })
  for (const [k, v] of rows)
    if (v !== undefined && v !== false && v !== '') table.append(el('tr', {}, el('th', {}, k), el('td', {}, v)))
  return table
}

/** A table with a header row and a row of cells per entry. */
function grid(head: readonly string[], rows: readonly (readonly Child[])[]): HTMLElement {
  const table = el('table', { class: 'facts' }, el('tr', {}, ...head.map(h => el('th', {}, h))))
  for (const cells of rows) table.append(el('tr', {}, ...cells.map(c => el('td', {}, c))))
  return table
}

const state = {
  connected: false,
  /** Each first read has reached its EOSE: the providers' events, the ledger. */
  loaded: { providers: false, jobs: false },
  /** Paging back found nothing older. */
  allJobs: false,
  latest: new Latest(),
}

/** Rows as of the events held now, built once per change however many views and helpers ask. */
let built: { jobs?: JobRow[]; providers?: ProviderRow[] } = {}
const jobsNow = (): JobRow[] => (built.jobs ??= jobRows(state.latest.events(), relayPubkey))
const providersNow = (): ProviderRow[] => (built.providers ??= providerRows(state.latest.events(), relayPubkey))

/** Keeps an event a subscription delivered; true if it changed what the page holds (then it draws again). */
function take(e: NostrEvent): boolean {
  if (!state.latest.add(e)) return false
  built = {}
  schedule()
  return true
}

const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`
const maxLimit = Number(info.limitation?.['max_limit'] ?? 500)
const limit = Math.min(500, Number.isFinite(maxLimit) && maxLimit > 0 ? maxLimit : 500)
const relay = new RelayClient(wsUrl, {
  onstate: open => {
    state.connected = open
    schedule()
  },
})
// Two first reads, so a view draws once its own events are in: a browser spends about 0.2 ms on each WebSocket
// message, and one REQ for everything kept the first view waiting for all of it (bench: `page`). The one the
// opening view needs goes first.
const reads: ['providers' | 'jobs', Filter[]][] = [
  [
    'providers',
    [
      { kinds: [HANDLER], limit },
      { kinds: [HEARTBEAT], limit },
      { kinds: [ASSERTION], authors: [relayPubkey], limit },
    ],
  ],
  ['jobs', [{ kinds: [LEDGER], authors: [relayPubkey], limit }]],
]
if (['jobs', 'job', 'totals'].includes(route().view)) reads.reverse()
for (const [part, filters] of reads)
  relay.subscribe(filters, {
    onevent: e => {
      take(e)
    },
    oneose: () => {
      state.loaded[part] = true
      schedule()
    },
  })

/** A subscription replaced whenever what it asks for (its key) changes; no key closes it. */
function slot(): (key: string | undefined, filters: () => Filter[]) => void {
  let cur: { key: string; sub: Subscription } | undefined
  return (key, filters) => {
    if (cur?.key === key) return
    cur?.sub.close()
    cur = undefined
    if (key)
      cur = {
        key,
        sub: relay.subscribe(filters(), {
          onevent: e => {
            take(e)
          },
        }),
      }
  }
}
// What only one view reads (a provider's reviews) is subscribed to while that view is open.
const viewSlot = slot()
// Open jobs are the requests the ledger has no entry for yet: read for the kinds the market knows of (providers'
// kinds, the ledger's, workflows and swarms), so the relay seeks a few kinds rather than a thousand.
const requestSlot = slot()
const requestKinds = () => {
  const kinds = new Set([WORKFLOW, SWARM, ...jobsNow().map(j => j.kind)])
  for (const r of providersNow()) for (const k of r.kinds) kinds.add(k)
  return [...kinds].filter(k => isJobRequest({ kind: k })).sort((a, b) => a - b)
}

/**
 * The page of jobs before the oldest held: the ledger and the requests again with `until` (inclusive, so the
 * oldest second is read again and its duplicates dropped). True if the relay may hold still older ones.
 */
function olderJobs(): Promise<boolean> {
  const ledger = state.latest.oldest(e => e.kind === LEDGER)
  const requests = state.latest.oldest(isJobRequest)
  const filters: Filter[] = []
  if (ledger !== undefined) filters.push({ kinds: [LEDGER], authors: [relayPubkey], until: ledger, limit })
  if (requests !== undefined) filters.push({ kinds: requestKinds(), until: requests, limit })
  return new Promise(resolve => {
    if (filters.length === 0) return resolve(false)
    let added = 0
    const sub = relay.subscribe(filters, {
      onevent: e => {
        if (take(e)) added++
      },
      oneose: () => {
        sub.close()
        resolve(added > 0)
      },
    })
  })
}

/**
 * The view and its options, read from the URL's hash so each view can be shared: #/providers?kind=5100&online=1,
 * #/jobs, #/job/<id>, #/relay.
 */
function route(): { view: string; id: string; params: URLSearchParams } {
  const [path = '', query] = location.hash.replace(/^#/, '').split('?')
  const [, view = '', id = ''] = path.split('/')
  return {
    view: ['relay', 'jobs', 'job', 'provider', 'totals'].includes(view) ? view : 'providers',
    id: decodeURIComponent(id),
    params: new URLSearchParams(query ?? ''),
  }
}

function go(view: string, params: URLSearchParams): void {
  const q = params.toString()
  location.hash = `/${view}${q ? `?${q}` : ''}`
}

const SORTS: readonly (readonly [SortKey, string])[] = [
  ['name', 'Provider'],
  ['online', 'Online'],
  ['rank', 'Rank'],
  ['standing', 'Standing'],
  ['jobsDelivered', 'Delivered'],
  ['jobsPaid', 'Paid'],
  ['price', 'Price'],
]

/** Rows the providers table draws: a page of them, more on request (500 rows cost the first paint ~100 ms). */
const PROVIDER_PAGE = 100
let providersShown = PROVIDER_PAGE

function providersView(params: URLSearchParams): HTMLElement {
  if (!state.loaded.providers) return el('section', {}, note('Loading providers…'))
  const all = providersNow()
  const kind = params.get('kind') ? Number(params.get('kind')) : undefined
  // Best ranked first unless the URL says otherwise.
  const key = SORTS.find(([k]) => k === params.get('sort'))?.[0]
  const sort: Sort = key ? { key, descending: params.get('desc') === '1' } : { key: 'rank', descending: true }
  const feature = params.get('feature') ?? undefined
  const rows = sortRows(filterRows(all, { kind, feature, onlineOnly: params.get('online') === '1' }), sort)
  const set = (k: string, v: string | undefined) => {
    const next = new URLSearchParams(params)
    if (v === undefined) next.delete(k)
    else next.set(k, v)
    go('providers', next)
  }

  const kinds = [...new Set(all.flatMap(r => r.kinds))].sort((a, b) => a - b)
  const kindSelect = el('select', { id: 'kind-filter' }, el('option', { value: '' }, 'every kind'))
  for (const k of kinds) kindSelect.append(el('option', { value: String(k) }, String(k)))
  ;(kindSelect as HTMLSelectElement).value = kind === undefined ? '' : String(kind)
  kindSelect.addEventListener('change', () => set('kind', (kindSelect as HTMLSelectElement).value || undefined))
  const features = [...new Set(all.flatMap(r => r.features))].sort()
  const featureSelect = el('select', { id: 'feature-filter' }, el('option', { value: '' }, 'any feature'))
  for (const f of features) featureSelect.append(el('option', { value: f }, f))
  ;(featureSelect as HTMLSelectElement).value = feature ?? ''
  featureSelect.addEventListener('change', () =>
    set('feature', (featureSelect as HTMLSelectElement).value || undefined),
  )
  const online = el('input', { type: 'checkbox', id: 'online-filter' }) as HTMLInputElement
  online.checked = params.get('online') === '1'
  online.addEventListener('change', () => set('online', online.checked ? '1' : undefined))

  const filters = el(
    'div',
    { class: 'filters' },
    el('label', { for: 'kind-filter' }, 'Kind '),
    kindSelect,
    el('label', { for: 'feature-filter' }, 'Feature '),
    featureSelect,
    el('label', {}, online, ' online now'),
  )
  if (rows.length === 0)
    return el(
      'section',
      {},
      filters,
      el(
        'p',
        { class: 'state' },
        all.length === 0 ? 'No provider has announced itself on this relay yet.' : 'No provider matches.',
      ),
    )

  const head = el('tr')
  for (const [key, label] of SORTS) {
    const active = sort.key === key
    const button = el('button', { type: 'button' }, label, active ? (sort.descending ? ' ▼' : ' ▲') : '')
    button.addEventListener('click', () => {
      const next = new URLSearchParams(params)
      next.set('sort', key)
      next.set('desc', active && !sort.descending ? '1' : '0')
      go('providers', next)
    })
    head.append(el('th', active ? { 'aria-sort': sort.descending ? 'descending' : 'ascending' } : {}, button))
  }
  head.append(el('th', {}, 'Kinds'))
  const body = el('tbody')
  for (const r of rows.slice(0, providersShown)) body.append(providerRow(r))
  const more = el(
    'button',
    { type: 'button', id: 'more-providers' },
    `Show more (${rows.length - providersShown} left)`,
  )
  more.addEventListener('click', () => {
    providersShown += PROVIDER_PAGE
    schedule()
  })
  return el(
    'section',
    {},
    filters,
    el('table', { class: 'providers' }, el('thead', {}, head), body),
    rows.length > providersShown && more,
  )
}

function providerRow(r: ProviderRow): HTMLElement {
  const who = el('td', { class: 'who' })
  if (r.picture) {
    const img = el('img', { alt: '', width: '24', height: '24', referrerpolicy: 'no-referrer' }) as HTMLImageElement
    img.src = r.picture
    who.append(img)
  }
  who.append(el('a', { class: 'name', href: `#/provider/${r.pubkey}` }, r.name || `${r.pubkey.slice(0, 12)}…`))
  if (r.flagged) who.append(el('span', { class: 'flag', title: 'flagged by reports of its counterparties' }, 'flagged'))
  if (r.about) who.title = r.about
  const price = priceText(r)
  const standing = r.inputs.map(i => `${i.name} ${i.counted} (raw ${i.raw})`).join('\n')
  return el(
    'tr',
    { 'data-pubkey': r.pubkey },
    who,
    el('td', {}, r.online ? 'online' : 'offline'),
    el('td', {}, r.rank === undefined ? '–' : r.rank),
    el('td', standing ? { title: standing } : {}, r.standing),
    el('td', {}, r.jobsDelivered),
    el('td', {}, r.jobsPaid),
    el('td', {}, price || '–'),
    el('td', {}, r.kinds.join(', ')),
  )
}

/** A provider's name where it gave one, else the start of its key. */
function namer(): (pubkey: string) => string {
  const names = new Map(providersNow().map(r => [r.pubkey, r.name]))
  return pubkey => names.get(pubkey) || `${pubkey.slice(0, 10)}…`
}

const ROW_HEIGHT = 36
const time = (s: number) => new Date(s * 1000).toLocaleString()
const priceText = (r: ProviderRow) => [...r.price].map(([k, n]) => `${k}: ${n} sats`).join(', ')

/**
 * The jobs, newest change first, in a scrolling list that draws only the rows in view: a long ledger costs the
 * page what fits on the screen, not a node per job.
 */
function jobsView(): HTMLElement {
  if (!state.loaded.jobs) return el('section', {}, note('Loading jobs…'))
  const jobs = jobsNow()
  if (jobs.length === 0) return el('section', {}, note('No job has been posted on this relay yet.'))
  const name = namer()
  const spacer = el('div', { class: 'spacer' })
  spacer.style.height = `${jobs.length * ROW_HEIGHT}px`
  const viewport = el('div', { class: 'viewport', role: 'list', 'aria-label': 'jobs' }, spacer)
  const draw = () => {
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_HEIGHT) - 2)
    const count = Math.ceil((viewport.clientHeight || 600) / ROW_HEIGHT) + 4
    spacer.replaceChildren(
      ...jobs.slice(first, first + count).map((j, i) => {
        const row = jobRow(j, name)
        row.style.top = `${(first + i) * ROW_HEIGHT}px`
        return row
      }),
    )
  }
  viewport.addEventListener('scroll', draw)
  queueMicrotask(draw)
  // The page reads the newest `limit` of each; older ones on request, a page at a time.
  const more = el('button', { type: 'button', id: 'older-jobs' }, 'Older jobs') as HTMLButtonElement
  more.addEventListener('click', () => {
    more.disabled = true
    more.textContent = 'Loading older jobs…'
    void olderJobs().then(found => {
      state.allJobs = !found
      schedule()
    })
  })
  return el(
    'section',
    {},
    note(`${jobs.length} job${jobs.length === 1 ? '' : 's'}, the latest change first`),
    viewport,
    state.allJobs ? note('That is every job this relay holds.') : more,
  )
}

function jobRow(j: JobRow, name: (pubkey: string) => string): HTMLElement {
  const money =
    j.paidMsats > 0 ? `paid ${sats(j.paidMsats)}` : j.bidMsats !== undefined ? `bid ${sats(j.bidMsats)}` : ''
  return el(
    'a',
    { class: 'job', role: 'listitem', href: `#/job/${encodeURIComponent(j.id)}`, 'data-job': j.id },
    el('span', { class: 'when' }, time(j.changedAt)),
    el('span', { class: `badge ${j.state}` }, j.state),
    el('span', {}, `kind ${j.kind}`),
    el('span', {}, name(j.customer)),
    el('span', {}, j.provider ? `→ ${name(j.provider)}` : ''),
    el('span', {}, money),
    j.escrow ? el('span', { class: `escrow ${j.escrow.state}` }, `escrow ${j.escrow.state}`) : undefined,
  )
}

function jobView(id: string): HTMLElement {
  const j = jobsNow().find(x => x.id === id)
  if (!j) return el('section', {}, note(state.loaded.jobs ? 'This relay has no job with that id.' : 'Loading…'))
  const name = namer()
  const list = el('ul', { class: 'story' })
  for (const line of describeJob(j, name)) list.append(el('li', {}, line))
  const events = [...state.latest.events()]
  const result = j.resultId === undefined ? undefined : events.find(e => e.id === j.resultId)
  const table = facts([
    ['Job id', j.id],
    ['Requested', time(j.requestedAt)],
    ['Delivered', j.deliveredAt === undefined ? undefined : time(j.deliveredAt)],
    ['Paid', j.paidAt === undefined ? undefined : `${time(j.paidAt)}, ${sats(j.paidMsats)}`],
    ['Result event', j.resultId],
    ['Result', result && resultFacts(result)],
  ])
  const reviews = reviewsOf(events, { job: j.id })
  const said = el('ul', { class: 'reviews' })
  for (const v of reviews)
    said.append(
      el(
        'li',
        {},
        `${name(v.reviewer)} rated ${name(v.about)} `,
        el('span', { class: 'rating' }, `${v.rating}/5`),
        v.text ? `: ${v.text}` : '',
      ),
    )
  return el(
    'section',
    {},
    el('p', {}, el('a', { href: '#/jobs' }, '← all jobs')),
    list,
    table,
    el('h3', {}, 'Reviews'),
    reviews.length ? said : note('None yet.'),
  )
}

/** One provider: what it says it does (its skill descriptor), its terms, its standing and what made it, its jobs. */
function providerView(pubkey: string): HTMLElement {
  const r = providersNow().find(x => x.pubkey === pubkey)
  if (!r) return el('section', {}, note(state.loaded.providers ? 'No provider with that key here.' : 'Loading…'))
  const about = facts([
    ['Key', r.pubkey],
    ['About', r.about],
    ['Online', r.online ? 'yes' : 'no'],
    ['Kinds', r.kinds.join(', ')],
    ['Price', priceText(r)],
    ['Features', r.features.join(', ')],
    ['Models', r.models.join(', ')],
    ['Input types', r.inputTypes.join(', ')],
    ['Rank', r.rank === undefined ? '' : `${r.rank} of 100${r.flagged ? ' (flagged)' : ''}`],
    ['Jobs delivered, paid', `${r.jobsDelivered}, ${r.jobsPaid}`],
  ])
  const parts: Child[] = [
    el('p', {}, el('a', { href: '#/providers' }, '← all providers')),
    el('h2', {}, r.name || r.pubkey),
    about,
  ]
  if (r.params.length > 0)
    parts.push(
      el('h3', {}, 'Job params'),
      grid(
        ['Param', 'Type', 'What'],
        r.params.map(p => [p.name + (p.required ? ' (required)' : ''), p.type, p.description]),
      ),
    )
  if (r.inputs.length > 0)
    parts.push(
      el('h3', {}, 'What its rank is made of'),
      grid(
        ['Standing input', 'Counted', 'Raw'],
        r.inputs.map(i => [i.name, i.counted, i.raw]),
      ),
    )
  const jobs = jobsNow().filter(j => j.provider === pubkey)
  const list = el('div', { class: 'recent' })
  const name = namer()
  for (const j of jobs.slice(0, 20)) {
    const row = jobRow(j, name)
    row.style.position = 'static'
    list.append(row)
  }
  parts.push(el('h3', {}, 'Recent jobs'), jobs.length ? list : note('None yet.'))
  const reviews = reviewsOf(state.latest.events(), { about: pubkey })
  const said = el('ul', { class: 'reviews' })
  for (const v of reviews.slice(0, 50))
    said.append(
      el(
        'li',
        {},
        el('span', { class: 'rating' }, `${v.rating}/5`),
        ' ',
        el('a', { href: `#/job/${encodeURIComponent(v.job)}` }, name(v.reviewer)),
        v.text ? `: ${v.text}` : '',
      ),
    )
  const attested = attestationsOf(state.latest.events(), pubkey)
  parts.push(
    el('h3', {}, 'Attestations'),
    attested.length
      ? grid(
          ['By', 'Rating', 'Confidence', 'Context'],
          attested.slice(0, 50).map(a => [name(a.by), `${a.rating}/5`, a.confidence.toFixed(2), a.context]),
        )
      : note('None yet.'),
  )
  parts.push(
    el('h3', {}, 'Reviews of its jobs'),
    reviews.length ? said : note('None yet (only a customer of a delivered job may review it).'),
  )
  return el('section', {}, ...parts)
}

/** The market's totals: jobs by kind over the last hour and day, money paid and held, providers, rates. */
function totalsView(): HTMLElement {
  if (!state.loaded.jobs || !state.loaded.providers) return el('section', {}, note('Loading…'))
  const jobs = jobsNow()
  const now = Math.floor(Date.now() / 1000)
  const x = totals(jobs, providersNow(), now)
  const pct = (r: number) => `${(r * 100).toFixed(1)} %`
  const cards: [string, string][] = [
    ['Jobs', String(x.jobs)],
    ['Sats paid', String(x.satsPaid)],
    ['Sats in escrow now', String(x.satsInEscrow)],
    ['Providers online', String(x.providersOnline)],
    ['Disputed', pct(x.disputeRate)],
    ['Refunded', pct(x.refundRate)],
  ]
  const summary = el('div', { class: 'cards' })
  for (const [k, v] of cards) summary.append(el('div', { class: 'card' }, el('div', { class: 'value' }, v), k))
  const kinds = [...x.lastDay.keys()].sort((a, b) => a - b)
  const byKind = grid(
    ['Kind', 'Last hour', 'Last day'],
    kinds.map(k => [k, x.lastHour.get(k) ?? 0, x.lastDay.get(k) ?? 0]),
  )
  const states = facts([...x.byState].sort())
  const width = Math.max(320, Math.min(900, (document.getElementById('view')?.clientWidth ?? 900) - 40))
  const charts = el(
    'div',
    { class: 'charts' },
    ...[
      chart('Jobs requested per hour, last 24 hours', requestSeries(jobs, now, 3600, 24), width),
      chart('Jobs requested per day, last 30 days', requestSeries(jobs, now, 86400, 30), width),
      chart('Sats paid per day, last 30 days', paidSeries(jobs, now, 86400, 30), width),
    ].map(c => {
      disposers.push(c.destroy)
      return c.node
    }),
  )
  return el(
    'section',
    {},
    summary,
    el(
      'p',
      { class: 'state' },
      `Counted from the jobs this page has read: the latest ${limit} changes and requests, and what “Older jobs” added.`,
    ),
    charts,
    el('h3', {}, 'Jobs requested, by kind'),
    kinds.length ? byKind : note('None in the last day.'),
    el('h3', {}, 'Jobs by state'),
    x.jobs ? states : note('No job yet.'),
  )
}

function relayView(): HTMLElement {
  const rows: [string, Child][] = [
    ['Address', wsUrl],
    ['Relay key', relayPubkey],
    ['Supported NIPs', Array.isArray(info['supported_nips']) ? info['supported_nips'].join(', ') : ''],
    ...relayRules(info),
  ]
  return el(
    'section',
    {},
    el('p', {}, String(info['description'] ?? '')),
    facts(rows),
    el(
      'p',
      {},
      'How to use this relay, with an example event for each step: ',
      el('a', { href: 'skill.md' }, 'skill.md'),
    ),
  )
}

/** What the drawn view must release before it is replaced (its charts). */
const disposers: (() => void)[] = []

let pending = false
/** Renders once per frame however many events arrived. */
function schedule(): void {
  if (pending) return
  pending = true
  requestAnimationFrame(() => {
    pending = false
    render()
  })
}

function render(): void {
  const { view, id, params } = route()
  // A provider's reviews and attestations; a job's result event and its reviews (d = the job).
  const resultId = view === 'job' ? jobsNow().find(j => j.id === id)?.resultId : undefined
  viewSlot(view === 'provider' ? `provider:${id}` : view === 'job' ? `job:${id}:${resultId ?? ''}` : undefined, () =>
    view === 'provider'
      ? [{ kinds: [REVIEW, ATTESTATION], '#p': [id], limit }]
      : [{ kinds: [REVIEW], '#d': [id], limit }, ...(resultId ? [{ ids: [resultId] }] : [])],
  )
  if (state.loaded.jobs && state.loaded.providers) {
    const kinds = requestKinds()
    requestSlot(kinds.join(','), () => [{ kinds, limit }])
  }
  const banner = document.getElementById('connection')!
  banner.textContent = state.connected ? '' : 'Not connected to the relay; reconnecting…'
  banner.hidden = state.connected
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a'))
    a.setAttribute(
      'aria-current',
      a.dataset['view'] === ({ job: 'jobs', provider: 'providers' }[view] ?? view) ? 'page' : 'false',
    )
  const main = document.getElementById('view')!
  // Keep keyboard focus on a control that is drawn again (a sort button, a filter), and the list's scroll.
  const focused = document.activeElement?.id || document.activeElement?.textContent
  const scrolled = main.querySelector('.viewport')?.scrollTop ?? 0
  const views: Record<string, () => HTMLElement> = {
    relay: relayView,
    jobs: jobsView,
    job: () => jobView(id),
    provider: () => providerView(id),
    totals: totalsView,
    providers: () => providersView(params),
  }
  for (const dispose of disposers.splice(0)) dispose()
  main.replaceChildren(views[view]!())
  const viewport = main.querySelector('.viewport')
  if (viewport) viewport.scrollTop = scrolled
  if (focused)
    [...main.querySelectorAll<HTMLElement>('button, select, input')]
      .find(n => n.id === focused || n.textContent === focused)
      ?.focus()
}

window.addEventListener('hashchange', render)
render()
