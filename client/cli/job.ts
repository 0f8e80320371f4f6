// `agora job post|pay|release|dispute|cancel|pick|status`: the customer's verbs, and following a posted job.
import { readFileSync } from 'node:fs'
import type { NostrEvent } from '../../nips/nip01.js'
import { fetchEvent, ledgerOf, postJob, publishOrThrow, relayKeys, watchJob } from '../customer.js'
import { ClientError } from '../errors.js'
import { parsePubkey } from '../keys.js'
import { ESCROW_LOCK, jobRequest, swarmPick, tagOf, tagsOf, type RequestOptions } from '../market.js'
import { connect, CONNECTION, logger } from './common.js'
import type { Ctx } from './context.js'
import { lockFor, refund, release } from './escrow.js'
import { isGateRefusal, payGateAndPublish } from './gate.js'
import { payJob, revealSealed } from './lightning.js'
import { int, list, readOptions, str } from './options.js'

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
  const verbs: Record<string, (c: Ctx, arg: string) => Promise<number>> = {
    post,
    pay: (c, job) => payJob(c, job),
    release,
    dispute: (c, job) => refund(c, job, 'dispute'),
    cancel,
    pick,
    status,
  }
  const run = verbs[verb]
  if (!run) throw new ClientError(`unknown job verb "${verb}"\n${JOB_USAGE}`, 2)
  if (verb !== 'post' && !arg) throw new ClientError(`job ${verb} needs the job id`, 2)
  if (verb === 'post' && arg === undefined) throw new ClientError('job post needs an input (or - to read stdin)', 2)
  const log = logger(v, 'job')
  const pool = await connect(v, log)
  try {
    return await run({ pool, v, log, timeoutMs: int(v, 'timeout', { min: 1, fallback: 300 })! * 1000 }, arg ?? '')
  } finally {
    pool.close()
  }
}

/** The input: the argument, or stdin for "-". */
function readInput(arg: string | undefined): string {
  if (arg === undefined) throw new ClientError('job post needs an input (or - to read stdin)', 2)
  return arg === '-' ? readFileSync(0, 'utf8') : arg
}

async function post(c: Ctx, input: string): Promise<number> {
  const { v, pool, log } = c
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
  if (v['escrow'] && bid === undefined) throw new ClientError('an escrowed job needs --bid', 2)
  if (v['sealed'] && bid === undefined) throw new ClientError('a sealed job needs --bid (the most its key costs)', 2)
  // Checked before posting: the job would otherwise be done and left unpaid.
  if (((v['pay'] && !v['nutzap']) || v['sealed']) && !str(v, 'nwc'))
    throw new ClientError(
      `--${v['sealed'] ? 'sealed' : 'pay'} pays through a Lightning wallet: pass --nwc nostr+walletconnect://…` +
        (v['sealed'] ? '' : ' (or --nutzap to pay from the Cashu wallet)'),
      2,
    )
  const opts: RequestOptions = {
    kind,
    input: readInput(input),
    ...(str(v, 'input-type') ? { inputType: str(v, 'input-type')! } : {}),
    ...(bid !== undefined ? { bid: bid * 1000 } : {}),
    providers: list(v, 'provider').map(parsePubkey),
    params,
    escrow: v['escrow'] === true,
    sealed: v['sealed'] === true,
    ...(minReputation !== undefined ? { minReputation } : {}),
    ...(swarm !== undefined ? { swarm } : {}),
  }
  const request = await postJob(pool, opts).catch(err => {
    if (!(err instanceof ClientError) || !v['pay-gate'] || !isGateRefusal(err.message)) throw err
    return payGateAndPublish(c, jobRequest(opts), 'job request')
  })
  log(`job ${request.id} posted`)
  if (!v['wait']) {
    console.log(request.id)
    return 0
  }
  return follow(c, request, swarm)
}

/** Prints the job's feedback as it comes and its result at the end; locks, pays or opens what it was asked to. */
async function follow(c: Ctx, request: NostrEvent, swarm: number | undefined): Promise<number> {
  const { v, pool, log } = c
  const keys = await relayKeys(pool)
  const submissions: NostrEvent[] = []
  let locking: Promise<unknown> | undefined
  const targets = tagsOf(request, 'p').map(t => t[1]!)
  const failed = new Set<string>()
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.close()
      if (swarm !== undefined && submissions.length) return resolve(0)
      reject(new ClientError(`no result for job ${request.id} within ${c.timeoutMs / 1000} s`, 3))
    }, c.timeoutMs)
    // Once: a second result (or sealed result) arriving before the subscription closes must not be paid too.
    let ended = false
    const end = (run: () => Promise<number>) => {
      if (ended) return
      ended = true
      clearTimeout(timer)
      sub.close()
      run().then(resolve, reject)
    }
    const sub = watchJob(pool, request, keys, {
      onFeedback: e => {
        const amount = e.tags.find(t => t[0] === 'amount')?.[1]
        if (tagOf(e, 'status') === 'error' && targets.includes(e.pubkey)) failed.add(e.pubkey)
        log(
          `feedback ${tagOf(e, 'status')} from ${e.pubkey.slice(0, 8)}${amount ? ` (${amount} msats)` : ''}${e.content ? `: ${e.content}` : ''}`,
        )
        // A direct request has no one else to deliver it once each of its providers gave up.
        if (targets.length && failed.size === targets.length)
          end(() => Promise.reject(new ClientError(`job ${request.id} failed: ${e.content || 'error'}`, 1)))
        if (v['escrow'] && !locking && tagOf(e, 'status') === 'payment-required' && amount)
          locking = lockFor(c, request, e).catch(err => end(() => Promise.reject(err)))
      },
      onSealed: e => {
        if (v['sealed']) end(() => revealSealed(c, request, e))
      },
      onResult: e => {
        if (swarm !== undefined) {
          submissions.push(e)
          console.log(JSON.stringify({ provider: e.pubkey, result: e.id, content: e.content }))
          if (submissions.length >= swarm) end(() => Promise.resolve(0))
          return
        }
        if (v['sealed']) return
        end(() => delivered(c, request, e))
      },
    })
  })
}

/** Prints a delivered result; pays it at once with --pay, else says how to. */
async function delivered(c: Ctx, request: NostrEvent, result: NostrEvent): Promise<number> {
  console.log(result.content)
  c.log(`result ${result.id} from ${result.pubkey}`)
  if (c.v['pay']) return payJob(c, request.id, result)
  c.log(
    c.v['escrow']
      ? `release the escrow with: agora job release ${request.id}`
      : `pay with: agora job pay ${request.id}`,
  )
  return 0
}

async function cancel(c: Ctx, job: string): Promise<number> {
  const [lock] = await c.pool.query([{ kinds: [ESCROW_LOCK], authors: [c.pool.signer.pubkey], '#e': [job] }])
  if (lock) return refund(c, job, 'refund')
  const request = await fetchEvent(c.pool, job, 'job')
  const e = await publishOrThrow(
    c.pool,
    {
      kind: 5,
      tags: [
        ['e', job],
        ['k', String(request.kind)],
      ],
      content: str(c.v, 'reason') ?? 'cancelled',
    },
    'cancel',
  )
  console.log(e.id)
  return 0
}

async function pick(c: Ctx, swarm: string): Promise<number> {
  const [provider] = list(c.v, 'provider')
  if (!provider) throw new ClientError('job pick needs --provider (the winner)', 2)
  const e = await publishOrThrow(c.pool, swarmPick(swarm, parsePubkey(provider), str(c.v, 'result')), 'pick')
  console.log(e.id)
  return 0
}

async function status(c: Ctx, job: string): Promise<number> {
  const entry = await ledgerOf(c.pool, job)
  if (!entry) throw new ClientError(`no ledger entry for ${job} (an open job has none; or the relay runs no market)`, 4)
  console.log(
    JSON.stringify(Object.fromEntries(entry.tags.filter(t => t[0] !== 'd').map(t => [t[0], t.slice(1).join(' ')]))),
  )
  return 0
}
