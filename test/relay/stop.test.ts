// agora start's stop is bounded: a drain that outlasts its deadline ends the process, a second signal ends it at
// once, and a drain that fails exits 1 (relay/commands/start.ts, stopper).
import t from 'tap'
import { pino } from 'pino'
import { stopper, type Ending } from '../../relay/commands/start.js'
import { spawnCli } from '../helpers/cli.js'
import { START_MS } from '../helpers/instance.js'
import { tempDir } from '../helpers/relay.js'
import { waitFor } from '../helpers/wait.js'

/** A stopper over a relay whose close is `close`, with its log lines and how it ended the process. */
function stopFor(close: () => Promise<void>, deadlineMs: number) {
  const lines: string[] = []
  const log = pino(
    { base: undefined },
    { write: (s: string) => void lines.push((JSON.parse(s) as { msg: string }).msg) },
  )
  const ended: (0 | 1 | 'killed')[] = []
  const end: Ending = { exit: code => void ended.push(code), kill: () => void ended.push('killed') }
  return { stop: stopper({ close }, log, deadlineMs, end), lines, ended }
}

const never = () => new Promise<void>(() => undefined)

t.test('a drain that finishes exits 0 after saying it stopped', async t => {
  const s = stopFor(() => Promise.resolve(), 60_000)
  s.stop('SIGTERM')
  await waitFor(() => s.ended.length > 0, 'the stop to end')
  t.same(s.ended, [0])
  t.same(s.lines, ['SIGTERM, draining', 'stopped'])
})

t.test('a drain that outlasts the deadline ends the process and says so', async t => {
  const s = stopFor(never, 50)
  s.stop('SIGTERM')
  await waitFor(() => s.ended.length > 0, 'the deadline')
  t.same(s.ended, ['killed'])
  t.same(s.lines, ['SIGTERM, draining', 'not drained after 0.05 s: exiting'])
})

t.test('a second signal while draining ends the process at once', async t => {
  const s = stopFor(never, 60_000)
  s.stop('SIGTERM')
  s.stop('SIGINT')
  t.same(s.ended, ['killed'], 'without waiting for the drain or the deadline')
  t.same(s.lines, ['SIGTERM, draining', 'SIGINT again: exiting without waiting for the drain'])
})

t.test('a drain that fails exits 1 naming the error', async t => {
  const s = stopFor(() => Promise.reject(new Error('writer thread exited (code 1)')), 60_000)
  s.stop('SIGINT')
  await waitFor(() => s.ended.length > 0, 'the stop to end')
  t.same(s.ended, [1])
  t.same(s.lines, ['SIGINT, draining', 'drain failed: writer thread exited (code 1)'])
})

t.test('agora start killed by a second signal while it drains ends at once', async t => {
  const relay = spawnCli(t, ['start', '--port', '0', '--data', tempDir(t), '--open'])
  await waitFor(() => /^listening /m.test(relay.stdout()), 'the relay to listen', START_MS)
  // Two different signals: a second SIGTERM sent before the first is handled would merge with it.
  relay.child.kill('SIGTERM')
  relay.child.kill('SIGINT')
  t.equal((await relay.exited).signal, 'SIGKILL', 'it killed itself')
  t.match(relay.stderr(), /(SIGTERM|SIGINT) again: exiting without waiting for the drain/)
  t.notMatch(relay.stderr(), /"msg":"stopped"/, 'it did not wait for the drain')
})
