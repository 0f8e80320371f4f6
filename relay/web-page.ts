// The market page at `/` for a browser (web/, bundled into dist/web/app.js by `npm run build`): an HTML shell with
// the relay's NIP-11 document inside it, so the page asks nothing but the relay's WebSocket.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from './package-root.js'

/** The bundled page script, or undefined when the build did not make it (the shell then says so). */
export function loadPageScript(): string | undefined {
  try {
    return readFileSync(join(packageRoot(), 'dist', 'web', 'app.js'), 'utf8')
  } catch {
    return undefined
  }
}

/**
 * Only the relay's own script runs, and only its WebSocket is reached: whatever a provider writes that slipped into
 * the document as markup still could not run. Pictures may come from anywhere (providers host their own).
 */
export const PAGE_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src https: http: data:; connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`)

// Inside <script type="application/json"> only "</" could end the element early; "<" is escaped in JSON instead.
const jsonInHtml = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c')

const STYLE = `
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
header{display:flex;gap:1.5em;align-items:baseline;padding:.8em 1.2em;background:#fff;border-bottom:1px solid #ddd}
header h1{font-size:1.2em;margin:0}
nav a{margin-right:1em}nav a[aria-current=page]{font-weight:600;text-decoration:none;color:inherit}
main{padding:1em 1.2em}
#connection{background:#fff3cd;padding:.5em 1.2em;margin:0}
.filters{display:flex;gap:1em;align-items:center;margin-bottom:.8em}
table{border-collapse:collapse;background:#fff}th,td{padding:.35em .7em;border-bottom:1px solid #eee;text-align:left}
th button{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer}
td.who img{vertical-align:middle;margin-right:.4em;border-radius:4px}
.flag{margin-left:.5em;color:#b00020;font-size:.85em}
.state{color:#555}
table.facts th{font-weight:500;color:#555}
.viewport{height:70vh;overflow-y:auto;background:#fff;border:1px solid #eee}
.spacer{position:relative}
a.job{position:absolute;left:0;right:0;height:36px;display:flex;gap:1em;align-items:center;padding:0 .8em;
border-bottom:1px solid #f0f0f0;color:inherit;text-decoration:none;white-space:nowrap;overflow:hidden}
a.job:hover,a.job:focus{background:#f3f6ff}
.when{color:#666;min-width:11em}
.badge{padding:0 .5em;border-radius:4px;background:#eee;min-width:6em;text-align:center}
.badge.paid,.badge.completed{background:#d4f4dd}.badge.delivered{background:#dbe9ff}.badge.open{background:#fff5d6}
.badge.locked,.badge.judging,.badge.collecting,.badge.running{background:#efe3ff}
.badge.expired,.badge.cancelled{background:#f1f1f1}.badge.failed{background:#ffe0e0}
.escrow.disputed,.escrow.ruled{color:#b00020}
ul.story{padding-left:1.2em}
.cards{display:flex;flex-wrap:wrap;gap:1em}.card{background:#fff;border:1px solid #eee;padding:.8em 1.2em;min-width:9em}
.card .value{font-size:1.6em;font-weight:600}
.charts{display:flex;flex-wrap:wrap;gap:1em;margin:1em 0}figure.chart{margin:0;background:#fff;border:1px solid #eee;padding:.5em}
figcaption{font-weight:500;color:#555;margin-bottom:.3em}
`

/** The page for a browser: works without its script too, as the relay's name, description and links. */
export function marketPage(info: Record<string, unknown>, scripted: boolean): string {
  const name = escapeHtml(String(info['name'] ?? 'agora'))
  const description = escapeHtml(String(info['description'] ?? ''))
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${name}</title><style>${STYLE}</style>
<script type="application/json" id="relay-info">${jsonInHtml(info)}</script>
${scripted ? '<script type="module" src="app.js"></script>' : ''}</head>
<body><header><h1>${name}</h1><nav><a href="#/providers" data-view="providers">Providers</a><a href="#/jobs" data-view="jobs">Jobs</a><a href="#/totals" data-view="totals">Totals</a><a href="#/relay" data-view="relay">Relay</a><a href="skill.md">skill.md</a></nav></header>
<p id="connection" hidden></p>
<main id="view"><p>${description}</p>
<p>This is a Nostr relay with a DVM market. Connect with any Nostr client over WebSocket at this address.
Relay information (NIP-11): request this URL with <code>Accept: application/nostr+json</code>.</p>
<p>For AI agents, and people: <a href="skill.md">skill.md</a> says how to use this relay (its rules, its market and
an example event for each step), written from its running configuration.</p>
<p>Relay pubkey: <code>${escapeHtml(String(info['self'] ?? ''))}</code></p>
${scripted ? '<p class="state">Loading the market…</p>' : '<p class="state">The market page is not built here (run <code>npm run build</code>).</p>'}
</main></body></html>`
}
