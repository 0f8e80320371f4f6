// What the page scenario runs inside the market page (headless Chromium): functions puppeteer serialises into the
// page, so each is self-contained (no imports, no outer names) and reads only the page's DOM and clocks.

/** The views measured, and when each counts as showing its data. */
export type View = 'providers' | 'jobs'

/** What the probe noted, in ms since navigation start (performance.now()); NaN until it happened. */
export type Probe = {
  /** The page's WebSocket opened. */
  open: number
  firstEvent: number
  /** The first EOSE: the relay has sent what it holds. */
  eose: number
  /** The view's data went into the DOM. */
  dom: number
  /** The first frame after that began: the data has been painted. */
  shown: number
  events: number
  /** Events after the first EOSE: live updates while the page was measured. */
  eventsAfterEose: number
  /** Characters of every frame received. */
  chars: number
  /** The first REQ frame the page sent: the page's own subscription, replayed by the scenario. */
  req: string
}

type Window = { __bench: Probe; WebSocket: typeof WebSocket }

/**
 * Installed before the page's own script (evaluateOnNewDocument): counts what the page's WebSocket receives and
 * notes when `view` first has its data in the DOM. Providers: a row in the table and no loading text; jobs: a row
 * of the scrolling list.
 */
export function installProbe(view: View): void {
  const w = window as unknown as Window
  const p: Probe = (w.__bench = {
    open: NaN,
    firstEvent: NaN,
    eose: NaN,
    dom: NaN,
    shown: NaN,
    events: 0,
    eventsAfterEose: 0,
    chars: 0,
    req: '',
  })
  const Native = w.WebSocket
  w.WebSocket = class extends Native {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols)
      this.addEventListener('open', () => (p.open = Number.isNaN(p.open) ? performance.now() : p.open))
      this.addEventListener('message', m => {
        const s = String(m.data)
        p.chars += s.length
        if (s.startsWith('["EVENT"')) {
          p.events++
          if (Number.isNaN(p.firstEvent)) p.firstEvent = performance.now()
          if (!Number.isNaN(p.eose)) p.eventsAfterEose++
        } else if (s.startsWith('["EOSE"') && Number.isNaN(p.eose)) p.eose = performance.now()
      })
    }
    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (p.req === '' && typeof data === 'string' && data.startsWith('["REQ"')) p.req = data
      super.send(data)
    }
  }
  const ready =
    view === 'providers'
      ? () =>
          document.querySelector('table.providers tbody tr') !== null &&
          !(document.getElementById('view')?.textContent ?? '').includes('Loading')
      : () => document.querySelector('.viewport a.job') !== null
  const observer = new MutationObserver(() => {
    if (!ready()) return
    observer.disconnect()
    p.dom = performance.now()
    requestAnimationFrame(() => (p.shown = performance.now()))
  })
  observer.observe(document, { childList: true, subtree: true })
}

/** True once the view has been painted with its data. */
export const hasShown = () => !Number.isNaN((window as unknown as Partial<Window>).__bench?.shown ?? NaN)

/** The probe's notes, and when the HTML and the page script had arrived (resource timing). */
export function readProbe() {
  const p = (window as unknown as Window).__bench
  const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined
  const script = performance.getEntriesByType('resource').find(r => r.name.endsWith('/app.js')) as
    PerformanceResourceTiming | undefined
  return { ...p, html: nav?.responseEnd ?? NaN, script: script?.responseEnd ?? NaN }
}

export type ListFigures = Awaited<ReturnType<typeof scrollJobs>>

/**
 * The jobs view's list: elements under #view and `.job` rows at the top, after a jump to the middle and one to the
 * end (virtualised rows: neither grows with the jobs), then the list scrolled top to bottom in `ms`, one step a
 * frame: the frame timestamps, for the intervals between them.
 */
export async function scrollJobs(ms: number) {
  const view = document.getElementById('view')!
  const list = view.querySelector<HTMLElement>('.viewport')!
  // A scroll event fires in the next frame's rendering steps and the page redraws then: two frames settle it.
  const settle = () => new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve)))
  const snap = () => ({
    nodes: view.getElementsByTagName('*').length,
    rows: view.querySelectorAll('a.job').length,
    scrollTop: Math.round(list.scrollTop),
  })
  const end = list.scrollHeight - list.clientHeight
  const top = snap()
  list.scrollTop = end / 2
  await settle()
  const middle = snap()
  list.scrollTop = end
  await settle()
  const bottom = snap()
  list.scrollTop = 0
  await settle()
  const stamps: number[] = []
  await new Promise<void>(resolve => {
    let t0 = NaN
    const step = (t: number) => {
      stamps.push(t)
      if (Number.isNaN(t0)) t0 = t
      const f = (t - t0) / ms
      list.scrollTop = Math.min(1, f) * end
      if (f < 1) requestAnimationFrame(step)
      else resolve()
    }
    requestAnimationFrame(step)
  })
  return {
    listed: view.querySelector('p.state')?.textContent ?? '',
    listHeightPx: list.scrollHeight,
    top,
    middle,
    bottom,
    stamps,
  }
}

/**
 * Sends `req` (the page's REQ frame) from a page without the market page's script: ms from the socket's open to
 * EOSE when each message is only parsed, what receiving the events costs the browser itself.
 */
export function bareReq(url: string, req: string) {
  return new Promise<{ eoseMs: number; events: number }>((resolve, reject) => {
    const ws = new WebSocket(url)
    // Held by the page: a socket nothing refers to may be collected, and the promise with it.
    ;(window as unknown as { __bareSocket: WebSocket }).__bareSocket = ws
    let opened = NaN
    let events = 0
    ws.onerror = () => reject(new Error(`a page without the script could not connect to ${url}`))
    ws.onopen = () => {
      opened = performance.now()
      ws.send(req)
    }
    ws.onmessage = m => {
      const msg = JSON.parse(String(m.data)) as unknown[]
      if (msg[0] === 'EVENT') events++
      else if (msg[0] === 'EOSE') {
        ws.close()
        resolve({ eoseMs: performance.now() - opened, events })
      }
    }
  })
}
