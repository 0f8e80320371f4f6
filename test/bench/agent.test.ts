import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import { run, type Report } from '../../bench/run.js'
import { ensureBuilt, isAlive } from '../helpers/cli.js'
import { startTestRelay, tempDir } from '../helpers/relay.js'

// The agent scenario at a tiny size: one `agora agent` process (exec:cat) and this process as its customer. The
// figures must be positive and every job must get its own input back; no timing assertions: the machine is shared.
ensureBuilt()

/** Runs `npm run bench -- agent ARGV` in-process with temp dirs; returns the report and the agent's pid from the log. */
async function bench(t: Test, ...argv: string[]): Promise<{ report: Report; agentPid: number | undefined }> {
  const dir = tempDir(t, 'agora-bench-test-')
  const lines: string[] = []
  const io = { print: () => {}, log: (s: string) => void lines.push(s) }
  const pidOf = () => Number(/agora agent ready \(pid (\d+)/.exec(lines.join('\n'))?.[1]) || undefined
  try {
    const args = ['agent', ...argv, '--cache', `${dir}/cache`, '--out', `${dir}/out`, '--timeout', '300']
    const { file } = await run(args, io)
    return { report: JSON.parse(readFileSync(file, 'utf8')) as Report, agentPid: pidOf() }
  } catch (err) {
    throw Object.assign(err as Error, { agentPid: pidOf() })
  }
}

const positive = (t: Test, x: unknown, what: string) =>
  t.ok(typeof x === 'number' && Number.isFinite(x) && x > 0, `${what} is finite and > 0 (got ${x})`)

type Figures = Record<string, number>

/** Every job of both phases got its own input back, and every figure is a positive number. */
function checkFigures(t: Test, r: Report, jobs: number, sequential: number) {
  const tp = r.results.throughput as Figures
  t.equal(tp.jobs, jobs)
  t.equal(tp.results, jobs, 'every job of the throughput phase got a result')
  t.equal(tp.wrongResults, 0, 'each result echoes its own job’s input')
  for (const k of ['seconds', 'jobsPerSec', 'latencyP50Ms', 'latencyP99Ms', 'agentCpuPercent', 'agentPeakRssMb'])
    positive(t, tp[k], `throughput ${k}`)
  const one = r.results.sequential as Figures
  t.equal(one.results, sequential, 'every job posted one at a time got a result')
  t.equal(one.wrongResults, 0)
  for (const k of ['p50Ms', 'p99Ms', 'meanMs', 'okP50Ms', 'processingP50Ms']) positive(t, one[k], `one at a time ${k}`)
  t.ok(one.p99Ms! >= one.p50Ms!, 'p99 >= p50')
  const exec = r.results.execAlone as Figures
  for (const k of ['p50Ms', 'runsPerSec']) positive(t, exec[k], `exec alone ${k}`)
}

t.test('agent: every job gets its echoed result from the agent process, and the figures are positive', async t => {
  const { report: r, agentPid } = await bench(t, '-n', '20', '-w', '4', '-k', '5', '--concurrency', '2')
  t.ok(r.command.startsWith('npm run bench -- agent '), 'the command line is recorded')
  t.equal(r.relay.local, true)
  t.has(r.options, { jobs: 20, window: 4, sequential: 5, concurrency: 2 })
  t.has(r.results.pow, { bits: 0, relayOpen: true }, 'the local agora runs --open')
  checkFigures(t, r, 20, 5)
  positive(t, (r.results.throughput as Figures).relayCpuPercent, 'relay cpu')
  t.ok(agentPid && !isAlive(agentPid), `the agent process (${agentPid}) is gone`)
})

t.test('agent against a --url relay with PoW on: the customer mines what NIP-11 asks and every job ends', async t => {
  const { url } = await startTestRelay(t, { 'policies.open': false, 'policies.rate_limit.enabled': false })
  const { report: r } = await bench(t, '--url', url, '-n', '10', '-w', '4', '-k', '3', '--concurrency', '2')
  t.equal(r.relay.local, false)
  t.equal((r.results.pow as { bits: number }).bits, 10, 'the relay asks 10 bits for 5000-5999')
  checkFigures(t, r, 10, 3)
})

t.test('a refused job stops the run with the relay’s reason, and the agent process is stopped', async t => {
  // The default rate limit takes 30 job requests a minute from one key: the 31st is refused.
  const { url } = await startTestRelay(t, { 'policies.open': false })
  const err = await bench(t, '--url', url, '-n', '40', '-w', '4', '-k', '1', '--concurrency', '2').then(
    () => undefined,
    (e: Error & { agentPid?: number }) => e,
  )
  t.match(err?.message, /job request \(kind 5100\) refused: .*rate-limited:/)
  t.ok(err?.agentPid && !isAlive(err.agentPid), `the agent process (${err?.agentPid}) is gone`)
})
