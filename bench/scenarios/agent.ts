// agent: one `agora agent` (a separate process serving kind 5100 with `exec:cat`, so each result echoes its input)
// against agora with the market on. A customer in this process, the client library's Pool (which mines what the
// relay's NIP-11 asks for), posts N jobs with W unanswered and counts their results (sustained jobs/s), then K jobs
// one at a time (post -> result latency). Last, with the agent gone, the same exec processor alone in this process:
// what one spawn costs.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { bytesToHex } from '@noble/curves/utils.js'
import { generateSecretKey } from 'nostr-tools/pure'
import { parseProcessor, type JobInput } from '../../client/agent/processors.js'
import { postJob } from '../../client/customer.js'
import { signerFrom } from '../../client/keys.js'
import { FEEDBACK, tagOf } from '../../client/market.js'
import { Pool } from '../../client/pool.js'
import { stopMining } from '../../client/pow.js'
import { MB, until, type Ctx, type Outcome } from '../scenario.js'
import { percentile, round, table } from '../stats.js'
import { meter, repoRoot } from '../target.js'
import { ownChild, ownTempDir } from '../cleanup.js'

/** -n jobs posted with -w unanswered, -k jobs one at a time, and the agent's --concurrency. */
export type AgentOptions = { jobs: number; window: number; sequential: number; concurrency: number }

const KIND = 5100
const RESULT = KIND + 1000
const PROCESSOR = 'exec:cat'
const CLI = join(repoRoot, 'dist/relay/cli.js')

type AgentProcess = {
  readonly pid: number
  /** Resolves with why, when the process exits. */
  readonly exited: Promise<string>
  stop(): Promise<void>
}

/** Starts `agora agent` against `url` with a fresh key in `dir`; resolves once it logs that it is ready. */
async function startAgent(url: string, dir: string, concurrency: number, timeoutMs: number): Promise<AgentProcess> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`)
  // --lookback 0: on a reused --url relay, earlier runs' requests would otherwise be re-checked during this one.
  const args = ['--relay', url, '--key', join(dir, 'key'), '--kind', String(KIND), '--processor', PROCESSOR]
  args.push('--concurrency', String(concurrency), '--lookback', '0')
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AGORA_')))
  const child = spawn(process.execPath, [CLI, 'agent', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] })
  ownChild(child)
  let tail = ''
  let ready = false
  // It logs every job: its stderr is read throughout (a full pipe would stall it), keeping the last lines.
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    tail = (tail + s).slice(-4000)
    ready ||= /^agora agent: ready$/m.test(tail)
  })
  const exited = new Promise<string>(resolve =>
    child.once('exit', (code, sig) => resolve(`agora agent exited (${sig ?? code}); its stderr ends: ${tail}`)),
  )
  const running = () => child.exitCode === null && child.signalCode === null
  const stop = async () => {
    if (!running()) return
    child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000)
    await exited
    clearTimeout(killer)
  }
  try {
    await until(() => ready || !running(), Math.min(timeoutMs, 60_000), 'the agent to be ready')
    if (!ready) throw new Error(await exited)
  } catch (err) {
    await stop()
    throw new Error(`${(err as Error).message}; agora agent's stderr: ${tail}`)
  }
  return { pid: child.pid!, exited, stop }
}

/** What the customer heard about one job: when its `processing` feedback and its result arrived, and what they said. */
type Heard = { processing?: number; result?: number; content?: string; error?: string }

/** Follows every job of this customer (results and feedback `p` it); `wait(id)` resolves when its result is in. */
async function listen(pool: Pool, timeoutMs: number) {
  const heard = new Map<string, Heard>()
  const waiters = new Map<string, () => void>()
  let failure: Error | undefined
  let eose = false
  pool.subscribe([{ kinds: [RESULT, FEEDBACK], '#p': [pool.signer.pubkey] }], {
    onevent: e => {
      const id = tagOf(e, 'e')
      if (!id) return
      const h = heard.get(id) ?? {}
      heard.set(id, h)
      const status = e.kind === FEEDBACK ? tagOf(e, 'status') : 'result'
      if (status === 'processing') h.processing ??= performance.now()
      if (status === 'error') h.error ??= e.content
      if (status === 'result' && h.result === undefined) [h.result, h.content] = [performance.now(), e.content]
      waiters.get(id)?.()
    },
    oneose: () => (eose = true),
  })
  await until(() => eose, timeoutMs, 'the customer subscription')
  return {
    heard,
    /** Every waiting job fails with `err` (the agent is gone). */
    fail(err: Error) {
      failure = err
      waiters.forEach(w => w())
    },
    /** Resolves with what was heard once the job's result is in; rejects on its error feedback, or at `deadline`. */
    wait: (id: string, deadline: number) =>
      new Promise<Heard & { result: number }>((resolve, reject) => {
        let late: Error | undefined
        const timer = setTimeout(() => {
          late = new Error(`no result to job ${id} within ${timeoutMs / 1000} s`)
          check()
        }, deadline - performance.now())
        function check() {
          const h = heard.get(id)
          const why = failure ?? (h?.error !== undefined ? new Error(`job ${id} got error feedback: ${h.error}`) : late)
          if (h?.result === undefined && !why) return
          clearTimeout(timer)
          waiters.delete(id)
          if (h?.result !== undefined) resolve(h as Heard & { result: number })
          else reject(why)
        }
        waiters.set(id, check)
        check()
      }),
  }
}

type Listener = Awaited<ReturnType<typeof listen>>

/** N jobs, each with its own input, `window` of them unanswered at a time; jobs/s from the first post to the last result. */
async function throughput(pool: Pool, l: Listener, o: AgentOptions, tag: string, timeoutMs: number) {
  const latencies = new Float64Array(o.jobs)
  const ids: string[] = []
  const deadline = performance.now() + timeoutMs
  let next = 0
  const started = performance.now()
  let last = started
  let failure: Error | undefined
  const sender = async () => {
    try {
      while (!failure && next < o.jobs) {
        const i = next++
        const sent = performance.now()
        const request = await postJob(pool, { kind: KIND, input: `${tag} job ${i}` })
        ids[i] = request.id
        const { result } = await l.wait(request.id, deadline)
        latencies[i] = result - sent
        last = Math.max(last, result)
      }
    } catch (err) {
      failure ??= err as Error
    }
  }
  // After a failure the other senders finish the job they are on and stop: none posts after the pool closes.
  await Promise.all(Array.from({ length: Math.min(o.window, o.jobs) }, sender))
  if (failure) throw failure
  const seconds = (last - started) / 1000
  return {
    jobs: o.jobs,
    window: o.window,
    results: ids.filter(id => l.heard.get(id)?.result !== undefined).length,
    wrongResults: ids.filter((id, i) => l.heard.get(id)?.content !== `${tag} job ${i}`).length,
    seconds: round(seconds),
    jobsPerSec: round(o.jobs / seconds),
    latencyP50Ms: round(percentile(latencies, 50)),
    latencyP99Ms: round(percentile(latencies, 99)),
  }
}

/** K jobs one at a time: post -> result, and its parts (post -> the relay's OK, post -> `processing` feedback). */
async function sequential(pool: Pool, l: Listener, k: number, tag: string, timeoutMs: number) {
  const [total, ok, processing] = [new Float64Array(k), new Float64Array(k), new Float64Array(k)]
  let results = 0
  let wrongResults = 0
  for (let i = 0; i < k; i++) {
    const input = `${tag} one ${i}`
    const sent = performance.now()
    const request = await postJob(pool, { kind: KIND, input })
    ok[i] = performance.now() - sent
    const h = await l.wait(request.id, performance.now() + timeoutMs)
    total[i] = h.result - sent
    processing[i] = (h.processing ?? NaN) - sent
    results++
    if (h.content !== input) wrongResults++
  }
  return {
    jobs: k,
    results,
    wrongResults,
    p50Ms: round(percentile(total, 50)),
    p99Ms: round(percentile(total, 99)),
    meanMs: round(total.reduce((a, b) => a + b, 0) / k),
    okP50Ms: round(percentile(ok, 50)),
    processingP50Ms: round(percentile(processing, 50)),
  }
}

/** The exec processor alone in this process: K runs one at a time (ms each), then N runs `concurrency` at a time. */
async function execAlone(k: number, n: number, concurrency: number, timeoutMs: number) {
  const processor = parseProcessor(PROCESSOR)
  const job = (i: number): JobInput => {
    const input = `run ${i}`
    return { id: String(i), kind: KIND, input, inputs: [{ value: input, type: 'text' }], params: {}, customer: '' }
  }
  const times = new Float64Array(k)
  for (let i = 0; i < k; i++) {
    const started = performance.now()
    await processor.run(job(i), { timeoutMs })
    times[i] = performance.now() - started
  }
  let next = 0
  const started = performance.now()
  const runner = async () => {
    while (next < n) await processor.run(job(next++), { timeoutMs })
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, runner))
  const seconds = (performance.now() - started) / 1000
  return {
    runs: k,
    p50Ms: round(percentile(times, 50)),
    p99Ms: round(percentile(times, 99)),
    parallelRuns: n,
    concurrency,
    runsPerSec: round(n / seconds),
  }
}

type Usage = { relayCpuPercent: number; agentCpuPercent: number; clientCpuPercent: number; agentPeakRssMb: number }
type Throughput = Awaited<ReturnType<typeof throughput>> & Usage

/** Posts the jobs while metering the relay and the agent: the throughput and what each process spent on it. */
async function meteredThroughput(
  ctx: Ctx,
  pool: Pool,
  l: Listener,
  o: AgentOptions,
  relayPid?: number,
  agentPid?: number,
) {
  const [relay, agent] = [meter(relayPid), meter(agentPid)]
  relay.start()
  agent.start()
  const stop = () => [relay.stop(), agent.stop()] as const
  // A meter samples on an interval until stopped: both stop even when a job fails.
  const tp = await throughput(pool, l, o, randomBytes(4).toString('hex'), ctx.timeoutMs).catch(err => {
    stop()
    throw err
  })
  const [r, a] = stop()
  ctx.log(`throughput: ${tp.results} results in ${tp.seconds} s = ${tp.jobsPerSec} jobs/s`)
  return {
    ...tp,
    relayCpuPercent: round(r.cpuPercent),
    agentCpuPercent: round(a.cpuPercent),
    clientCpuPercent: round(a.clientCpuPercent),
    agentPeakRssMb: round(a.peakRssBytes / MB),
  }
}

/** Runs the scenario against ctx's relay; every process and temp dir it started is gone when it settles. */
export async function agent(ctx: Ctx, o: AgentOptions): Promise<Outcome> {
  const target = await ctx.relay()
  const temp = ownTempDir('agora-bench-agent-')
  const dir = temp.dir
  const pool = new Pool([target.url], signerFrom(bytesToHex(generateSecretKey())), { log: ctx.log })
  let proc: AgentProcess | undefined
  let l: Listener | undefined
  try {
    proc = await startAgent(target.url, dir, o.concurrency, ctx.timeoutMs)
    ctx.log(`agora agent ready (pid ${proc.pid}, ${PROCESSOR}, concurrency ${o.concurrency})`)
    await pool.connect()
    const listener = (l = await listen(pool, ctx.timeoutMs))
    void proc.exited.then(why => listener.fail(new Error(why)))
    const powBits = (await pool.info(target.url))?.powFor(KIND) ?? 0
    const tp = await meteredThroughput(ctx, pool, listener, o, target.pid, proc.pid)
    const one = await sequential(pool, listener, o.sequential, randomBytes(4).toString('hex'), ctx.timeoutMs)
    ctx.log(`one at a time: p50 ${one.p50Ms} ms, p99 ${one.p99Ms} ms`)
    await proc.stop()
    const exec = await execAlone(o.sequential, o.jobs, o.concurrency, ctx.timeoutMs)
    return outcome(target.local, powBits, o, tp, one, exec)
  } finally {
    // Waiting jobs fail at once (a throw leaves them waiting), then everything started here stops.
    l?.fail(new Error('the bench stopped'))
    pool.close()
    await proc?.stop()
    await stopMining()
    await target.close()
    temp.remove()
  }
}

/** The results for the JSON file and the terminal lines. */
function outcome(
  local: boolean,
  powBits: number,
  o: AgentOptions,
  tp: Throughput,
  one: Awaited<ReturnType<typeof sequential>>,
  exec: Awaited<ReturnType<typeof execAlone>>,
): Outcome {
  const pow = {
    bits: powBits,
    // The harness starts agora with --open (no PoW, no rate limits); a --url relay states its own rules.
    relayOpen: local ? true : undefined,
    setting: `${powBits} bits for kind ${KIND} (from the relay's NIP-11${local ? '; the local agora runs --open' : ''})`,
  }
  const rows = [
    [
      `${tp.window} in flight`,
      tp.jobs,
      tp.results,
      tp.seconds,
      tp.jobsPerSec,
      tp.latencyP50Ms,
      tp.latencyP99Ms,
      undefined,
    ],
    ['one at a time', one.jobs, one.results, undefined, undefined, one.p50Ms, one.p99Ms, one.meanMs],
  ]
  return {
    results: {
      kind: KIND,
      processor: PROCESSOR,
      concurrency: o.concurrency,
      pow,
      throughput: tp,
      sequential: one,
      execAlone: exec,
    },
    table: [
      `agora agent with ${PROCESSOR}, concurrency ${o.concurrency}; customer PoW: ${pow.setting}`,
      '',
      table(['jobs posted', 'jobs', 'results', 's', 'jobs/s', 'p50 ms', 'p99 ms', 'mean ms'], rows),
      '',
      `during the throughput: relay cpu ${tp.relayCpuPercent} %, agent cpu ${tp.agentCpuPercent} % (not counting its exec children), this process ${tp.clientCpuPercent} %; agent peak RSS ${tp.agentPeakRssMb} MB`,
      `one at a time, p50 of the parts: post -> OK ${one.okP50Ms} ms, post -> processing feedback ${one.processingP50Ms} ms, post -> result ${one.p50Ms} ms`,
      `${PROCESSOR} alone in this process: ${exec.p50Ms} ms p50 (${exec.p99Ms} ms p99) one at a time, ${exec.runsPerSec} runs/s ${exec.concurrency} at a time`,
    ].join('\n'),
  }
}
