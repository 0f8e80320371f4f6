#!/usr/bin/env node
// agora CLI: start | import | export | sync | backup | keygen | market … | escrow … | skill, the relay's commands (see
// USAGE), whose flags override AGORA_* env, which overrides the config file; and the client's commands (agent, job,
// workflow, review, trust, report, providers, wallet, mcp), which client/cli runs like any Nostr client would.
import { parseArgs } from 'node:util'
import { ConfigError, findConfigFile, loadConfig } from '../config/load.js'
import type { Config } from '../config/schema.js'
import { whileLocked } from './datadir-lock.js'
// Each command's module is imported when it runs: together they load the whole relay (uWS, the store, the
// market), which doubled the start of `--help` and of every client command (measured: 0.42 s, now 0.2 s).

const USAGE = `usage:
  agora start  [--config FILE] [--data DIR] [--host HOST] [--port PORT] [--open]
  agora import FILE.jsonl [--config FILE] [--data DIR] [--no-verify] [--batch N]
  agora export [--config FILE] [--data DIR] [--since TS] [--until TS] [--kinds 1,7,5000-5999]
  agora sync URL [--filter JSON] [--direction down|up|both] [--json] [--config FILE] [--data DIR] [--port PORT]
      (NIP-77 with the relay at URL: pulls what only it has, pushes what only the data dir has; --port: of the
       relay running on the data dir, if its config says 0)
  agora backup FILE [--config FILE] [--data DIR] [--force]
  agora keygen [--config FILE] [--data DIR] [--force [--yes]]
  agora market rebuild [--config FILE] [--data DIR]
  agora market jobs [--state S] [--provider KEY] [--since TS|1h|2d] [--json] [--config FILE] [--data DIR]
  agora market providers [--json] [--config FILE] [--data DIR]
  agora market show JOB [--config FILE] [--data DIR]
  agora escrow list [--config FILE] [--data DIR]
  agora escrow rule JOB --release|--refund [--config FILE] [--data DIR] [--url ws://HOST:PORT]
  agora config check FILE
  agora config show [--config FILE] [--data DIR] [--host HOST] [--port PORT] [--open]
  agora skill [--config FILE] [--data DIR] [--host HOST] [--port PORT] [--open]
config file: --config FILE, else ./agora.toml if it exists, else none (defaults, AGORA_* environment, flags)
client commands (see docs/agents.md):
  agora agent|job|workflow|review|trust|report|providers|wallet … --help
  agora mcp [--relay URL...] [--key FILE] [--wallet FILE] [--nwc URI] [--mint URL]   (an MCP server on stdio)`

const options = {
  config: { type: 'string' },
  data: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  open: { type: 'boolean' },
  'no-verify': { type: 'boolean' },
  batch: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  kinds: { type: 'string' },
  force: { type: 'boolean' },
  yes: { type: 'boolean' },
  state: { type: 'string' },
  provider: { type: 'string' },
  json: { type: 'boolean' },
  release: { type: 'boolean' },
  refund: { type: 'boolean' },
  url: { type: 'string' },
  filter: { type: 'string' },
  direction: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

function fail(message: string): never {
  console.error(`agora: ${message}`)
  process.exit(2)
}

function timestamp(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  if (!/^\d+$/.test(v)) fail(`--${name} must be a unix timestamp in seconds`)
  return Number(v)
}

/** "1,7,5000-5002" -> [1, 7, 5000, 5001, 5002] */
function kindList(v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined
  return v.split(',').flatMap(part => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim())
    if (!m) fail(`--kinds: cannot read "${part}"`)
    const lo = Number(m[1])
    const hi = m[2] === undefined ? lo : Number(m[2])
    if (hi < lo || hi > 65535) fail(`--kinds: bad range "${part}"`)
    return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i)
  })
}

type ViewFlags = { state?: string; provider?: string; since?: string; json?: boolean }

/** agora market jobs|providers|show: read-only views of the market tables, beside the running relay. */
async function marketView(cfg: Config, rest: string[], v: ViewFlags) {
  const [sub, job, ...extra] = rest
  if (sub === 'show' && job !== undefined && extra.length === 0) {
    console.log(JSON.stringify((await import('./commands/market-show.js')).marketShow(cfg, job), null, 2))
    return
  }
  const json = v.json ?? false
  if (sub === 'providers' && rest.length === 1) {
    if ((await import('./commands/market-providers.js')).marketProviders(cfg, json) === 0)
      console.error('agora: no providers')
    return
  }
  if (sub !== 'jobs' || rest.length !== 1)
    fail(`market takes one subcommand: rebuild, jobs, providers or show JOB\n${USAGE}`)
  const { marketJobs, parseSince, stateRefusal } = await import('./commands/market-jobs.js')
  const state = v.state
  const refusal = state === undefined ? undefined : stateRefusal(state)
  if (refusal) fail(`--state: ${refusal}`)
  const since = v.since === undefined ? undefined : parseSince(v.since, Math.floor(Date.now() / 1000))
  if (v.since !== undefined && since === undefined) fail('--since takes unix seconds or a duration (30m, 1h, 2d, 1w)')
  let provider: string | undefined
  try {
    if (v.provider !== undefined) provider = (await import('../client/keys.js')).parsePubkey(v.provider)
  } catch (err) {
    fail(`--provider: ${(err as Error).message}`)
  }
  if (marketJobs(cfg, { state, provider, since, json }) === 0) console.error('agora: no jobs match')
}

/** agora sync URL: a one-shot NIP-77 reconciliation; the report on stderr, and as JSON on stdout with --json. */
async function syncCommand(cfg: Config, rest: string[], v: { filter?: string; direction?: string; json?: boolean }) {
  if (rest.length !== 1) fail(`sync takes one relay URL\n${USAGE}`)
  const { describeSync, parseSyncFilter, sync } = await import('./commands/sync.js')
  const filter = v.filter === undefined ? {} : parseSyncFilter(v.filter)
  if (typeof filter === 'string') fail(`--filter: ${filter}`)
  const direction = v.direction ?? 'both'
  if (direction !== 'down' && direction !== 'up' && direction !== 'both') fail('--direction takes down, up or both')
  const r = await sync(cfg, rest[0]!, { filter, direction })
  console.error(describeSync(r))
  if (v.json) console.log(JSON.stringify(r))
}

const CLIENT = new Set(['agent', 'job', 'workflow', 'review', 'trust', 'report', 'providers', 'wallet', 'mcp'])

async function main(): Promise<void> {
  if (CLIENT.has(process.argv[2] ?? '')) {
    const version = (await import('./package-root.js')).packageVersion()
    return (await import('../client/cli/main.js')).runClient(process.argv.slice(2), version)
  }
  let parsed
  try {
    parsed = parseArgs({ options, allowPositionals: true })
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`)
  }
  const { values: v, positionals } = parsed
  const [command, ...rest] = positionals
  if (v.help || !command) {
    console.log(USAGE)
    return
  }
  const flags: Record<string, string | boolean> = {}
  if (v.data !== undefined) flags['relay.data_dir'] = v.data
  if (v.host !== undefined) flags['relay.host'] = v.host
  if (v.port !== undefined) flags['relay.port'] = v.port
  if (v.open) flags['policies.open'] = true
  // Checked before loading the running config, so a broken ./agora.toml can be checked too.
  if (command === 'config' && rest[0] === 'check') {
    if (rest.length !== 2) fail(`config check takes one file\n${USAGE}`)
    if (!(await import('./commands/config.js')).configCheck(rest[1]!)) process.exit(1)
    return
  }
  const file = findConfigFile(v.config)
  const sources = { ...(file ? { file } : {}), flags }
  let cfg
  try {
    cfg = loadConfig(sources)
  } catch (err) {
    if (err instanceof ConfigError) fail(`config: ${err.message}`)
    throw err
  }
  if (command === 'start') return (await import('./commands/start.js')).start(cfg, sources)
  // Commands that write the data dir refuse while a relay or another of them holds it (relay/datadir-lock.ts).
  if (command === 'keygen') {
    const { keygen } = await import('./commands/keygen.js')
    const opts = { force: v.force ?? false, yes: v.yes ?? false }
    return whileLocked(cfg.relay.data_dir, 'agora keygen', () => keygen(cfg, opts))
  }
  if (command === 'backup') {
    if (rest.length !== 1) fail(`backup takes one file\n${USAGE}`)
    const r = await (await import('./commands/backup.js')).backup(cfg, rest[0]!, v.force ?? false)
    const mb = (r.bytes / 1e6).toFixed(1)
    console.error(`agora: backed up ${r.pages} pages (${r.bytes} bytes, ${mb} MB) to ${r.file} in ${r.ms / 1000} s`)
    return
  }
  if (command === 'export') {
    const { exportEvents } = await import('./commands/export.js')
    await exportEvents(cfg, {
      since: timestamp('since', v.since),
      until: timestamp('until', v.until),
      kinds: kindList(v.kinds),
    })
    return
  }
  if (command === 'import') {
    if (rest.length !== 1) fail(`import takes one file\n${USAGE}`)
    const { importEvents } = await import('./commands/import.js')
    if (v.batch !== undefined && !/^[1-9]\d{0,5}$/.test(v.batch))
      fail('--batch must be a number of events, 1 to 999999')
    const opts = { verify: !v['no-verify'], ...(v.batch === undefined ? {} : { batch: Number(v.batch) }) }
    const r = await whileLocked(cfg.relay.data_dir, 'agora import', () => importEvents(cfg, rest[0]!, opts))
    console.error(`agora: imported ${r.saved}, duplicates ${r.duplicates}, refused ${r.refused}`)
    return
  }
  if (command === 'sync') return syncCommand(cfg, rest, v)
  if (command === 'market' && rest[0] !== 'rebuild') return marketView(cfg, rest, v)
  if (command === 'market') {
    if (rest.length !== 1) fail(`market takes one subcommand: rebuild, jobs, providers or show JOB\n${USAGE}`)
    const { marketRebuild } = await import('./commands/market.js')
    const n = await whileLocked(cfg.relay.data_dir, 'agora market rebuild', () => marketRebuild(cfg))
    console.error(`agora: market rebuilt from ${n} stored events`)
    return
  }
  if (command === 'escrow') {
    const { escrowList, escrowRule } = await import('./commands/escrow.js')
    if (rest[0] === 'list' && rest.length === 1) {
      const lines = escrowList(cfg)
      for (const line of lines) console.log(JSON.stringify(line))
      if (lines.length === 0) console.error('agora: no escrows')
      return
    }
    if (rest[0] !== 'rule' || rest.length !== 2) fail(`escrow takes a subcommand: list, or rule JOB\n${USAGE}`)
    if (v.release === v.refund) fail(`escrow rule takes one of --release and --refund\n${USAGE}`)
    const r = await escrowRule(cfg, rest[1]!, v.release ? 'claim' : 'refund', v.url)
    console.log(JSON.stringify(r))
    if (!r.ok) process.exit(1)
    return
  }
  if (command === 'skill') {
    if (rest.length !== 0) fail(`skill takes no arguments\n${USAGE}`)
    process.stdout.write((await import('./commands/skill.js')).skill(cfg))
    return
  }
  if (command === 'config') {
    if (rest.length !== 1 || rest[0] !== 'show') fail(`config takes a subcommand: check FILE, or show\n${USAGE}`)
    return (await import('./commands/config.js')).configShow(cfg, file)
  }
  fail(`unknown command "${command}"\n${USAGE}`)
}

main().catch(err => {
  console.error(`agora: ${(err as Error).message}`)
  process.exit(1)
})
