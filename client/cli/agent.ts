// `agora agent`: runs the provider runtime until SIGINT or SIGTERM, then finishes or errors its jobs in flight.
import { ClientError } from '../errors.js'
import { startAgent } from '../agent/runtime.js'
import { parseProcessor } from '../agent/processors.js'
import { defaultSkill, loadSkill } from '../agent/skill.js'
import { connectNwc } from '../nwc.js'
import { stopMining } from '../pow.js'
import { connect, CONNECTION, logger } from './common.js'
import { walletOf } from '../verbs/session.js'
import { int, list, readOptions, str } from './options.js'

const AGENT_USAGE = `agora agent --kind N [--kind N...] --processor exec:CMD|http(s)://URL|ollama:MODEL[@URL]
    [--relay URL...] [--key FILE] [--price SATS] [--skill FILE] [--lud16 NAME@DOMAIN] [--mint URL...]
    [--wallet FILE] [--nwc URI] [--sub-kind N] [--sub-bid SATS] [--concurrency N] [--timeout S] [--name D]
    [--lookback S] [--heartbeat S]`

const SPEC = {
  ...CONNECTION,
  kind: { type: 'string', multiple: true },
  processor: { type: 'string' },
  price: { type: 'string' },
  skill: { type: 'string' },
  lud16: { type: 'string' },
  mint: { type: 'string', multiple: true },
  wallet: { type: 'string' },
  nwc: { type: 'string' },
  'sub-kind': { type: 'string' },
  'sub-bid': { type: 'string' },
  concurrency: { type: 'string' },
  timeout: { type: 'string' },
  name: { type: 'string' },
  lookback: { type: 'string' },
  heartbeat: { type: 'string' },
} as const

/** Runs the agent; resolves with the exit code once it has stopped. */
export async function agentCommand(argv: string[]): Promise<number> {
  const { values: v } = readOptions(argv, SPEC)
  if (v['help']) {
    console.log(AGENT_USAGE)
    return 0
  }
  const kinds = list(v, 'kind').map(k => {
    if (!/^5\d{3}$/.test(k)) throw new ClientError(`--kind ${k}: a job kind is 5000-5999`, 2)
    return Number(k)
  })
  if (!kinds.length) throw new ClientError(`--kind is required\n${AGENT_USAGE}`, 2)
  const processor = parseProcessor(str(v, 'processor', true))
  const skillFile = str(v, 'skill')
  const skill = skillFile ? loadSkill(skillFile) : defaultSkill(kinds, processor.describe)
  const mints = list(v, 'mint')
  const log = logger(v, 'agent')
  const wallet = mints.length ? await walletOf(str(v, 'wallet'))() : undefined
  const subKind = int(v, 'sub-kind', { min: 5000, max: 5999 })
  const subBid = int(v, 'sub-bid')
  const pool = await connect(v, log)
  const nwcUri = str(v, 'nwc')
  const nwc = nwcUri ? await connectNwc(nwcUri) : undefined
  const lud16 = str(v, 'lud16') ?? skill.lud16
  const agent = await startAgent({
    pool,
    kinds,
    processor,
    priceSats: int(v, 'price', { fallback: 0 })!,
    skill,
    concurrency: int(v, 'concurrency', { min: 1, max: 1000, fallback: 2 })!,
    timeoutMs: int(v, 'timeout', { min: 1, fallback: 300 })! * 1000,
    ...(subKind !== undefined ? { subKind } : {}),
    ...(subBid !== undefined ? { subBid: subBid * 1000 } : {}),
    ...(lud16 ? { lud16 } : {}),
    ...(wallet ? { wallet } : {}),
    mints,
    ...(nwc ? { nwc } : {}),
    d: str(v, 'name') ?? 'agora-agent',
    lookbackS: int(v, 'lookback', { fallback: 3600 })!,
    heartbeatS: int(v, 'heartbeat', { min: 1, fallback: 60 })!,
    log,
  })
  log('ready')
  await new Promise<void>(resolve => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  const { errored } = await agent.stop()
  nwc?.close()
  pool.close()
  await stopMining()
  return errored ? 1 : 0
}
