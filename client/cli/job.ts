// `agora job post|pay|release|dispute|cancel|pick|status`: the customer's verbs, and following a posted job.
import { readFileSync } from 'node:fs'
import { ClientError } from '../errors.js'
import { parsePubkey } from '../keys.js'
import { refund, release } from '../verbs/escrow.js'
import { cancel, follow, pick, post, status } from '../verbs/jobs.js'
import { payJob } from '../verbs/lightning.js'
import type { Session } from '../verbs/session.js'
import { connect, CONNECTION, logger, sessionOf } from './common.js'
import { int, list, readOptions, str, type Values } from './options.js'

const JOB_USAGE = `agora job post --kind N [--bid SATS] INPUT|- [--provider KEY...] [--escrow] [--sealed]
    [--swarm N] [--min-reputation N] [--param NAME=VALUE...] [--input-type T] [--wait] [--pay [--nutzap]] [--pay-gate]
    [--timeout S]
    [--mint URL] [--wallet FILE] [--nwc URI]
  agora job pay JOB [--nwc URI | --nutzap [--mint URL] [--wallet FILE]]
  agora job release|dispute|cancel|status JOB [--reason TEXT] [--wait] [--wallet FILE]
  agora job pick SWARM --provider KEY [--result ID]
  agora workflow post FILE [--wait] [--timeout S]`

const SPEC = {
  ...CONNECTION,
  kind: { type: 'string' },
  bid: { type: 'string' },
  provider: { type: 'string', multiple: true },
  escrow: { type: 'boolean' },
  sealed: { type: 'boolean' },
  swarm: { type: 'string' },
  'min-reputation': { type: 'string' },
  param: { type: 'string', multiple: true },
  'input-type': { type: 'string' },
  wait: { type: 'boolean' },
  pay: { type: 'boolean' },
  'pay-gate': { type: 'boolean' },
  nutzap: { type: 'boolean' },
  timeout: { type: 'string' },
  mint: { type: 'string' },
  wallet: { type: 'string' },
  nwc: { type: 'string' },
  reason: { type: 'string' },
  result: { type: 'string' },
} as const

/** Runs `agora job VERB …`. */
export async function jobCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = readOptions(argv, SPEC)
  const [verb, arg] = positionals
  if (v['help'] || !verb) {
    console.log(JOB_USAGE)
    return 0
  }
  const reason = str(v, 'reason')
  const verbs: Record<string, (c: Session, arg: string) => Promise<number>> = {
    post: (c, input) => postCommand(c, v, input),
    pay: (c, job) => payJob(c, job, { nutzap: v['nutzap'] === true }),
    release,
    dispute: (c, job) => refund(c, job, 'dispute', { reason, wait: v['wait'] === true }),
    cancel: (c, job) => cancel(c, job, reason),
    pick: (c, swarm) => {
      const [provider] = list(v, 'provider')
      if (!provider) throw new ClientError('job pick needs --provider (the winner)', 2)
      return pick(c, swarm, parsePubkey(provider), str(v, 'result'))
    },
    status,
  }
  const run = verbs[verb]
  if (!run) throw new ClientError(`unknown job verb "${verb}"\n${JOB_USAGE}`, 2)
  if (verb !== 'post' && !arg) throw new ClientError(`job ${verb} needs the job id`, 2)
  if (verb === 'post' && arg === undefined) throw new ClientError('job post needs an input (or - to read stdin)', 2)
  const log = logger(v, 'job')
  const pool = await connect(v, log)
  try {
    return await run(sessionOf(pool, v, log, int(v, 'timeout', { min: 1, fallback: 300 })! * 1000), arg ?? '')
  } finally {
    pool.close()
  }
}

/** `job post`: the request from the flags and the input (stdin for "-"), followed with --wait. */
async function postCommand(c: Session, v: Values, input: string): Promise<number> {
  const kind = int(v, 'kind', { min: 5000, max: 5999 })
  if (kind === undefined) throw new ClientError('--kind is required', 2)
  const bid = int(v, 'bid')
  const swarm = int(v, 'swarm', { min: 1, max: 100 })
  const minReputation = int(v, 'min-reputation')
  const params = Object.fromEntries(
    list(v, 'param').map(p => {
      const i = p.indexOf('=')
      if (i < 1) throw new ClientError(`--param ${p}: write NAME=VALUE`, 2)
      return [p.slice(0, i), p.slice(i + 1)]
    }),
  )
  const pay = { pay: v['pay'] === true, nutzap: v['nutzap'] === true }
  const request = await post(c, {
    kind,
    input: input === '-' ? readFileSync(0, 'utf8') : input,
    ...(str(v, 'input-type') ? { inputType: str(v, 'input-type')! } : {}),
    ...(bid !== undefined ? { bid: bid * 1000 } : {}),
    providers: list(v, 'provider').map(parsePubkey),
    params,
    escrow: v['escrow'] === true,
    sealed: v['sealed'] === true,
    ...(minReputation !== undefined ? { minReputation } : {}),
    ...(swarm !== undefined ? { swarm } : {}),
    ...pay,
    payGate: v['pay-gate'] === true,
  })
  if (!v['wait']) {
    c.out(request.id)
    return 0
  }
  return follow(c, request, pay)
}
