// The provider runtime (`agora agent`): announces itself, takes the requests of its kinds whose bid covers its
// price, quotes, runs its processor with a timeout and delivers, over any NIP-90 relay; with a wallet it takes
// escrowed jobs (waits for the lock, claims, redeems), with a Lightning wallet it sells sealed results, and it
// submits to swarms and answers workflow steps of its kinds like any request.
import type { NostrEvent } from '../../nips/nip01.js'
import { postJob, waitFor } from '../customer.js'
import {
  feedback,
  handlerInfo,
  heartbeat,
  jobResult,
  nutzapInfo,
  readJobRequest,
  SWARM,
  type JobRequest,
} from '../market.js'
import type { Pool, Published } from '../pool.js'
import type { Subscription } from '../relay.js'
import { makeEscrowSide, type EscrowSide } from './escrow.js'
import type { JobInput, Processor } from './processors.js'
import { receiveNutzaps } from './nutzaps.js'
import { DELIVER_MS, makeSealedSide, type SealedSide } from './sealed.js'
import { checkInputs, checkParams, handlerContent, type Skill } from './skill.js'
import type { LocalWallet } from '../wallet.js'
import type { Nwc } from '../nwc.js'

export type AgentOptions = {
  readonly pool: Pool
  readonly kinds: readonly number[]
  readonly processor: Processor
  /** Price per job in sats; 0 takes any request. */
  readonly priceSats: number
  readonly skill: Skill
  readonly concurrency: number
  readonly timeoutMs: number
  /** Delegate a sub-job of this kind first and feed its result to the processor. */
  readonly subKind?: number
  /** The sub-job's bid, msats. */
  readonly subBid?: number
  readonly lud16?: string
  /** The Cashu wallet for escrows and its mints (10019). */
  readonly wallet?: LocalWallet
  readonly mints: readonly string[]
  /** The Lightning wallet (NIP-47) for sealed results. */
  readonly nwc?: Nwc
  /** The `d` of its 31990 and 30333. */
  readonly d: string
  /** How far back requests are picked up at start, seconds (a restart finishes what it had begun). */
  readonly lookbackS: number
  readonly heartbeatS: number
  readonly log: (line: string) => void
}

export type Agent = {
  /** Stops taking jobs, finishes or errors those in flight, says so, and resolves with the counts. */
  stop(): Promise<{ finished: number; errored: number }>
}

/** Starts the agent; resolves once it has announced itself and subscribed. */
export async function startAgent(o: AgentOptions): Promise<Agent> {
  const me = o.pool.signer.pubkey
  const started = Math.floor(Date.now() / 1000)
  const inFlight = new Map<string, AbortController>()
  const taken = new Set<string>()
  const counts = { finished: 0, errored: 0 }
  let stopping = false
  const freed = signal()
  // Escrow needs a relay that arbitrates (NIP-11 `market.escrow`): elsewhere a lock is not checked and no one rules.
  const infos = await Promise.all(o.pool.relays.map(r => o.pool.info(r.url)))
  const arbiters = infos.flatMap(i =>
    (i?.doc['market'] as { escrow?: unknown })?.escrow === true && i?.pubkey ? [i.pubkey] : [],
  )
  const escrow: EscrowSide | undefined =
    o.wallet && arbiters.length ? makeEscrowSide(o.pool, o.wallet, arbiters, o.log) : undefined
  const sealed: SealedSide | undefined = o.nwc && makeSealedSide(o.pool, o.nwc, o.log)
  const prices = new Map(o.kinds.map(k => [k, o.priceSats]))

  const say = async (what: string, p: Promise<Published>) => {
    const r = await p
    if (!r.ok) o.log(`${what} refused: ${r.answers.map(a => `${a.url}: ${a.message}`).join('; ')}`)
    return r
  }
  const beat = () => say('heartbeat', o.pool.publish(heartbeat(o.d, o.concurrency - inFlight.size, prices)))

  await say(
    'handler info (31990)',
    o.pool.publish(handlerInfo(o.d, o.kinds, handlerContent(o.skill, o.lud16 ? { lud16: o.lud16 } : {}))),
  )
  if (o.wallet) await say('nutzap info (10019)', o.pool.publish(nutzapInfo(o.wallet.cashuPubkey(), o.mints)))
  await beat()
  const beating = setInterval(() => void beat(), o.heartbeatS * 1000)
  if (escrow) await escrow.resume()

  /** Why this agent does not take a request, or undefined when it does. */
  function declines(j: JobRequest): string | undefined {
    if (j.customer === me) return 'its own job'
    if (j.providers.length && !j.providers.includes(me)) return 'a direct request to others'
    const kind = j.swarm ? j.swarm.kind : j.kind
    if (!o.kinds.includes(kind)) return `kind ${kind} is not served`
    if (o.priceSats > 0 && (j.bid ?? 0) < o.priceSats * 1000)
      return `the bid ${j.bid ?? 0} msats is under the price ${o.priceSats * 1000} msats`
    if (j.escrow && !o.wallet) return 'escrow asked, and this agent has no Cashu mint (--mint)'
    if (j.escrow && !escrow) return 'escrow asked, and no relay here arbitrates escrows (NIP-11 market.escrow)'
    if (j.sealed && !sealed) return 'a sealed result asked, and this agent has no Lightning wallet (--nwc)'
    if (j.sealed && o.priceSats === 0) return 'a sealed result asked, and this agent sells at no price (--price)'
    return undefined
  }

  /** What this agent already did for a request seen again after a restart: 'done', 'begun' or 'new'. */
  async function progress(j: JobRequest): Promise<'done' | 'begun' | 'new'> {
    const mine = await o.pool.query([{ kinds: [7000, j.kind + 1000, 21117], authors: [me], '#e': [j.id] }])
    if (mine.some(e => e.kind !== 7000 || e.tags.some(t => t[0] === 'status' && t[1] === 'error'))) return 'done'
    return mine.length ? 'begun' : 'new'
  }

  async function take(e: NostrEvent): Promise<void> {
    if (stopping || taken.has(e.id)) return
    const j = readJobRequest(e)
    const why = declines(j)
    if (why) return o.log(`skip ${short(j.id)}: ${why}`)
    taken.add(e.id)
    // Bounded for an agent that runs for months: a request this old is past any relay's job_ttl anyway.
    if (taken.size > MAX_REMEMBERED) taken.delete(taken.values().next().value!)
    if (e.created_at < started && (await progress(j)) === 'done') return
    while (inFlight.size >= o.concurrency) await freed.next()
    const ctl = new AbortController()
    inFlight.set(j.id, ctl)
    try {
      await work(j, ctl.signal)
      counts.finished++
    } catch (err) {
      counts.errored++
      const message = stopping && ctl.signal.aborted ? 'the agent stopped before finishing' : (err as Error).message
      o.log(`job ${short(j.id)} failed: ${message}`)
      await say('error feedback', o.pool.publish(feedback(j, 'error', { content: message })))
    } finally {
      inFlight.delete(j.id)
      freed.fire()
    }
  }

  /** One job, from quote to delivery; throws what goes wrong, which becomes its `error` feedback. */
  async function work(j: JobRequest, signal: AbortSignal): Promise<void> {
    const refused = checkInputs(o.skill, j.inputs) ?? checkParams(o.skill, jobParams(j))
    if (refused) throw new Error(refused)
    const msats = o.priceSats * 1000
    if (msats > 0 && !j.swarm) await say('quote', o.pool.publish(feedback(j, 'payment-required', { msats })))
    if (j.escrow) await escrow!.awaitLock(j, signal, o.timeoutMs)
    // Not awaited: the relay keeps a connection's events in order, so it still comes before the result.
    void say('processing feedback', o.pool.publish(feedback(j, 'processing')))
    o.log(`job ${short(j.id)} (kind ${j.kind}) processing`)
    const input = o.subKind === undefined ? await resolveInputs(o.pool, inputOf(j)) : await delegate(j, signal)
    const output = await o.processor.run(input, { timeoutMs: o.timeoutMs, signal })
    if (j.sealed) return sealed!.deliver(j, output, msats)
    const r = await o.pool.publish(jobResult(j, output, msats > 0 ? msats : undefined), DELIVER_MS)
    if (!r.ok) throw new Error(`the result was refused: ${r.answers.map(a => a.message).join('; ')}`)
    o.log(`job ${short(j.id)} delivered ${r.event.id}`)
    if (j.escrow) await escrow!.claim(j)
  }

  /** Pipeline mode: the job's input goes to a sub-job of `subKind` first, and its result is what we process. */
  async function delegate(j: JobRequest, signal: AbortSignal): Promise<JobInput> {
    const first = j.inputs[0]
    const sub = await postJob(o.pool, {
      kind: o.subKind!,
      input: first?.value ?? '',
      ...(first ? { inputType: first.type } : {}),
      ...(o.subBid !== undefined ? { bid: o.subBid } : {}),
    })
    o.log(`job ${short(j.id)}: sub-job ${short(sub.id)} (kind ${o.subKind}) posted`)
    if (signal.aborted) throw new Error('stopped')
    const result = await waitFor(
      o.pool,
      [{ kinds: [o.subKind! + 1000], '#e': [sub.id] }],
      e => e,
      o.timeoutMs,
      `result to sub-job ${short(sub.id)}`,
      signal,
    )
    return { ...inputOf(j), input: result.content, inputs: [{ value: result.id, type: 'job' }] }
  }

  const onRequest = (e: NostrEvent) => void take(e)
  const kinds = [...o.kinds, ...(o.kinds.length ? [SWARM] : [])]
  const subs: Subscription[] = [
    o.pool.subscribe([{ kinds, since: started - o.lookbackS }], { onevent: onRequest }),
    ...(o.wallet ? [receiveNutzaps(o.pool, o.wallet, o.mints, started - o.lookbackS, o.log)] : []),
  ]
  o.log(`agent ${me} serving kinds ${o.kinds.join(', ')} at ${o.priceSats} sats with ${o.processor.describe}`)

  return {
    async stop() {
      stopping = true
      subs.forEach(s => s.close())
      clearInterval(beating)
      o.log(`stopping: ${inFlight.size} job(s) in flight`)
      const deadline = setTimeout(() => inFlight.forEach(c => c.abort()), o.timeoutMs)
      while (inFlight.size) await freed.next()
      clearTimeout(deadline)
      await say('heartbeat', o.pool.publish(heartbeat(o.d, 0, prices)))
      escrow?.close()
      o.log(`stopped: ${counts.finished} finished, ${counts.errored} errored`)
      return { ...counts }
    },
  }
}

/**
 * A `job` or `event` input names an event (a workflow step names the result before it): the processor gets that
 * event's content as its text, as NIP-90 chains jobs.
 */
async function resolveInputs(pool: Pool, input: JobInput): Promise<JobInput> {
  const first = input.inputs[0]
  if (!first || (first.type !== 'job' && first.type !== 'event')) return input
  const [e] = await pool.query([{ ids: [first.value] }])
  if (!e) throw new Error(`input ${first.type} ${first.value} is not on the relays`)
  return { ...input, input: e.content }
}

/** The job's own params: the market's (`escrow`, `sealed`, read by the runtime) are no business of the skill's. */
function jobParams(j: JobRequest): Record<string, string> {
  return Object.fromEntries(Object.entries(j.params).filter(([name]) => name !== 'escrow' && name !== 'sealed'))
}

/** What the processor gets: the request's first input as its text, every input, and the params. */
function inputOf(j: JobRequest): JobInput {
  return {
    id: j.id,
    kind: j.swarm?.kind ?? j.kind,
    input: j.inputs[0]?.value ?? '',
    inputs: j.inputs,
    params: jobParams(j),
    customer: j.customer,
  }
}

const short = (id: string) => id.slice(0, 8)

/** How many request ids an agent remembers having taken (a re-sent request is not worked twice). */
const MAX_REMEMBERED = 100_000

/** A moment many can wait for: `next()` resolves at the following `fire()`. */
function signal() {
  let fire = () => {}
  let next = new Promise<void>(r => (fire = r))
  return {
    next: () => next,
    fire() {
      fire()
      next = new Promise<void>(r => (fire = r))
    },
  }
}
