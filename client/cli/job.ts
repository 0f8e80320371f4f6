// `agora job post|pay|release|dispute|cancel|pick|status` and `agora workflow post`: the customer's verbs.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { NostrEvent } from '../../nips/nip01.js'
import {
  fetchEvent,
  ledgerOf,
  ledgerState,
  postJob,
  publishOrThrow,
  relayKeys,
  waitFor,
  watchJob,
} from '../customer.js'
import { ClientError } from '../errors.js'
import { parsePubkey } from '../keys.js'
import { ESCROW_ACTION, ESCROW_LOCK, escrowAction, swarmPick, tagOf, tagsOf, workflow, LEDGER } from '../market.js'
import { connectNwc } from '../nwc.js'
import type { Pool } from '../pool.js'
import { openWallet, proofsFromTags } from '../wallet.js'
import { connect, CONNECTION, logger } from './common.js'
import { lockFor, payJob, revealSealed } from './payments.js'
import { HOME, int, list, readOptions, str, type Values } from './options.js'

export const JOB_USAGE = `agora job post --kind N [--bid SATS] INPUT|- [--provider KEY...] [--escrow] [--sealed]
    [--swarm N] [--min-reputation N] [--param NAME=VALUE...] [--input-type T] [--wait] [--pay] [--timeout S]
    [--mint URL] [--wallet FILE] [--nwc URI]
  agora job pay|release|dispute|cancel|status JOB [--reason TEXT] [--wait] [--nwc URI] [--wallet FILE]
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
  timeout: { type: 'string' },
  mint: { type: 'string' },
  wallet: { type: 'string' },
  nwc: { type: 'string' },
  reason: { type: 'string' },
  result: { type: 'string' },
} as const

export type Ctx = { pool: Pool; v: Values; log: (l: string) => void; timeoutMs: number }

const walletOf = (v: Values) => openWallet(str(v, 'wallet') ?? join(HOME, 'wallet.json'))
const nwcOf = (v: Values) => {
  const uri = str(v, 'nwc')
  if (!uri) throw new ClientError('a Lightning payment needs a wallet: pass --nwc nostr+walletconnect://…', 2)
  return connectNwc(uri)
}
export { walletOf, nwcOf }

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
    dispute,
    cancel,
    pick,
    status,
  }
  const run = verbs[verb]
  if (!run) throw new ClientError(`unknown job verb "${verb}"\n${JOB_USAGE}`, 2)
  if (verb !== 'post' && !arg) throw new ClientError(`job ${verb} needs the job id`, 2)
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
  const request = await postJob(pool, {
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
    const end = (p: Promise<number>) => {
      clearTimeout(timer)
      sub.close()
      p.then(resolve, reject)
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
          end(Promise.reject(new ClientError(`job ${request.id} failed: ${e.content || 'error'}`, 1)))
        if (v['escrow'] && !locking && tagOf(e, 'status') === 'payment-required' && amount)
          locking = lockFor(c, request, e).catch(err => end(Promise.reject(err)))
      },
      onSealed: e => {
        if (v['sealed']) end(revealSealed(c, request, e))
      },
      onResult: e => {
        if (swarm !== undefined) {
          submissions.push(e)
          console.log(JSON.stringify({ provider: e.pubkey, result: e.id, content: e.content }))
          if (submissions.length >= swarm) end(Promise.resolve(0))
          return
        }
        if (v['sealed']) return
        end(delivered(c, request, e))
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

/** The customer's lock of a job, from the relays. */
async function lockOf(c: Ctx, job: string): Promise<NostrEvent> {
  const [lock] = await c.pool.query([{ kinds: [ESCROW_LOCK], authors: [c.pool.signer.pubkey], '#e': [job] }])
  if (!lock) throw new ClientError(`job ${job} has no escrow lock of yours`)
  return lock
}

async function release(c: Ctx, job: string): Promise<number> {
  const lock = await lockOf(c, job)
  const provider = tagOf(lock, 'p')!
  const claims = await c.pool.query([{ kinds: [ESCROW_ACTION], authors: [provider], '#e': [job] }])
  const claim = claims.find(e => tagOf(e, 'action') === 'claim' && tagOf(e, 'package'))
  if (!claim) throw new ClientError(`the provider of job ${job} has not claimed its escrow yet`)
  const wallet = await walletOf(c.v)
  const pkg = await wallet.coSignRelease(tagOf(claim, 'package')!, c.pool.signer.secretHex)
  const e = await publishOrThrow(c.pool, escrowAction(job, 'release', pkg), 'release')
  console.log(e.id)
  return 0
}

/** Disputes a delivered job (or, via cancel, refunds an undelivered one) with a refund package, and with --wait redeems the ruling. */
async function refund(c: Ctx, job: string, action: 'dispute' | 'refund'): Promise<number> {
  const lock = await lockOf(c, job)
  const wallet = await walletOf(c.v)
  const pkg = await wallet.prepareRefund(job, tagOf(lock, 'u')!, proofsFromTags(lock.tags), c.pool.signer.secretHex)
  const e = await publishOrThrow(c.pool, escrowAction(job, action, pkg, str(c.v, 'reason') ?? ''), action)
  console.log(e.id)
  if (!c.v['wait']) return 0
  return redeemRuling(c, job)
}

/** Waits for the relay's refund ruling of a job and redeems it into the wallet. */
export async function redeemRuling(c: Ctx, job: string): Promise<number> {
  const keys = await relayKeys(c.pool)
  const ruling = await waitFor(
    c.pool,
    [{ kinds: [ESCROW_ACTION], authors: keys, '#e': [job] }],
    e => (tagOf(e, 'action') === 'ruling' ? e : undefined),
    c.timeoutMs,
    `ruling on job ${job}`,
  )
  if (tagOf(ruling, 'ruling') !== 'refund') {
    c.log(`the relay ruled for the provider: ${ruling.content}`)
    return 1
  }
  const sats = await (await walletOf(c.v)).redeem(job, tagOf(ruling, 'package')!)
  c.log(`refunded ${sats} sats into the wallet`)
  return 0
}

const dispute = (c: Ctx, job: string) => refund(c, job, 'dispute')

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

/** `agora workflow post FILE`: a 5117 from a JSON file, followed to its end with --wait. */
export async function workflowCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = readOptions(argv, SPEC)
  const [verb, file] = positionals
  if (v['help'] || verb !== 'post' || !file) throw new ClientError(`usage: agora workflow post FILE [--wait]`, 2)
  let spec: {
    input?: string
    input_type?: string
    bid_sats?: number
    steps?: { kind: number; provider?: string; description?: string }[]
  }
  try {
    spec = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new ClientError(`${file}: ${(err as Error).message}`, 2)
  }
  if (typeof spec.input !== 'string' || !Array.isArray(spec.steps))
    throw new ClientError(`${file}: needs "input" (text) and "steps" ([{"kind": 5100}, ...])`, 2)
  const log = logger(v, 'workflow')
  const pool = await connect(v, log)
  try {
    const steps = spec.steps.map(s => ({ ...s, ...(s.provider ? { provider: parsePubkey(s.provider) } : {}) }))
    const w = await publishOrThrow(
      pool,
      workflow({
        input: spec.input,
        ...(spec.input_type ? { inputType: spec.input_type } : {}),
        ...(spec.bid_sats ? { bid: spec.bid_sats * 1000 } : {}),
        steps,
      }),
      'workflow',
    )
    log(`workflow ${w.id} posted`)
    if (!v['wait']) {
      console.log(w.id)
      return 0
    }
    const keys = await relayKeys(pool)
    if (!keys.length) throw new ClientError('this relay states no key (NIP-11 self): it runs no workflows')
    const end = await waitFor(
      pool,
      [{ kinds: [LEDGER], authors: keys, '#d': [w.id] }],
      e => {
        log(
          `workflow ${ledgerState(e)}: ${tagsOf(e, 'step')
            .map(s => `${s[1]}:${s[4]}`)
            .join(' ')}`,
        )
        return ['completed', 'failed', 'cancelled'].includes(ledgerState(e) ?? '') ? e : undefined
      },
      int(v, 'timeout', { min: 1, fallback: 600 })! * 1000,
      `end of workflow ${w.id}`,
    )
    if (ledgerState(end) !== 'completed') return 1
    const last = tagsOf(end, 'step').at(-1)!
    console.log((await fetchEvent(pool, last[6]!, 'result')).content)
    return 0
  } finally {
    pool.close()
  }
}
