#!/usr/bin/env node
// agora CLI: start | import | export | keygen | market rebuild | escrow list | escrow rule, the relay's commands,
// whose flags override AGORA_* env, which overrides the config file; and the client's commands (agent, job,
// workflow, review, trust, report, providers, wallet), which client/cli runs like any Nostr client would.
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from '../config/load.js'
import { whileLocked } from './datadir-lock.js'
import { exportEvents } from './commands/export.js'
import { importEvents } from './commands/import.js'
import { keygen } from './commands/keygen.js'
import { escrowList, escrowRule } from './commands/escrow.js'
import { marketRebuild } from './commands/market.js'
import { start } from './commands/start.js'

const USAGE = `usage:
  agora start  [--config FILE] [--data DIR] [--host HOST] [--port PORT] [--open]
  agora import FILE.jsonl [--config FILE] [--data DIR] [--no-verify]
  agora export [--config FILE] [--data DIR] [--since TS] [--until TS] [--kinds 1,7,5000-5999]
  agora keygen [--config FILE] [--data DIR] [--force]
  agora market rebuild [--config FILE] [--data DIR]
  agora escrow list [--config FILE] [--data DIR]
  agora escrow rule JOB --release|--refund [--config FILE] [--data DIR] [--url ws://HOST:PORT]
client commands (see docs/agents.md):
  agora agent|job|workflow|review|trust|report|providers|wallet … --help`

const options = {
  config: { type: 'string' },
  data: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  open: { type: 'boolean' },
  'no-verify': { type: 'boolean' },
  since: { type: 'string' },
  until: { type: 'string' },
  kinds: { type: 'string' },
  force: { type: 'boolean' },
  release: { type: 'boolean' },
  refund: { type: 'boolean' },
  url: { type: 'string' },
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

const CLIENT = new Set(['agent', 'job', 'workflow', 'review', 'trust', 'report', 'providers', 'wallet'])

async function main(): Promise<void> {
  if (CLIENT.has(process.argv[2] ?? '')) return (await import('../client/cli/main.js')).runClient(process.argv.slice(2))
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
  const sources = { ...(v.config ? { file: v.config } : {}), flags }
  let cfg
  try {
    cfg = loadConfig(sources)
  } catch (err) {
    if (err instanceof ConfigError) fail(`config: ${err.message}`)
    throw err
  }
  if (command === 'start') return start(cfg, sources)
  // Commands that write the data dir refuse while a relay or another of them holds it (relay/datadir-lock.ts).
  if (command === 'keygen') return whileLocked(cfg.relay.data_dir, 'agora keygen', () => keygen(cfg, v.force ?? false))
  if (command === 'export') {
    await exportEvents(cfg, {
      since: timestamp('since', v.since),
      until: timestamp('until', v.until),
      kinds: kindList(v.kinds),
    })
    return
  }
  if (command === 'import') {
    if (rest.length !== 1) fail(`import takes one file\n${USAGE}`)
    const r = await whileLocked(cfg.relay.data_dir, 'agora import', () => importEvents(cfg, rest[0]!, !v['no-verify']))
    console.error(`agora: imported ${r.saved}, duplicates ${r.duplicates}, refused ${r.refused}`)
    return
  }
  if (command === 'market') {
    if (rest.length !== 1 || rest[0] !== 'rebuild') fail(`market takes one subcommand: rebuild\n${USAGE}`)
    const n = await whileLocked(cfg.relay.data_dir, 'agora market rebuild', () => marketRebuild(cfg))
    console.error(`agora: market rebuilt from ${n} stored events`)
    return
  }
  if (command === 'escrow') {
    if (rest[0] === 'list' && rest.length === 1) {
      for (const line of escrowList(cfg)) console.log(JSON.stringify(line))
      return
    }
    if (rest[0] !== 'rule' || rest.length !== 2) fail(`escrow takes a subcommand: list, or rule JOB\n${USAGE}`)
    if (v.release === v.refund) fail(`escrow rule takes one of --release and --refund\n${USAGE}`)
    const r = await escrowRule(cfg, rest[1]!, v.release ? 'claim' : 'refund', v.url)
    console.log(JSON.stringify(r))
    if (!r.ok) process.exit(1)
    return
  }
  fail(`unknown command "${command}"\n${USAGE}`)
}

main().catch(err => {
  console.error(`agora: ${(err as Error).message}`)
  process.exit(1)
})
