import t from 'tap'
import { run, UsageError } from '../../bench/run.js'
import { ensureBuilt } from '../helpers/cli.js'
import { tempDir } from '../helpers/relay.js'

// --metrics: the harness's agora serves /metrics and is scraped during the run (bench/scrape.ts).
ensureBuilt()

t.test('ingest --metrics runs the local agora with metrics on and scrapes it', async t => {
  const dir = tempDir(t, 'agora-bench-test-')
  const logged: string[] = []
  const { report } = await run(
    ['ingest', '-n', '200', '-c', '2', '-w', '8', '-r', '1', '--metrics'].concat([
      '--cache',
      `${dir}/cache`,
      '--out',
      `${dir}/out`,
      '--timeout',
      '300',
    ]),
    { print: () => {}, log: s => logged.push(s) },
  )
  t.equal(report.relay.overrides['metrics.enabled'], 'true', 'the report says metrics were on')
  t.equal((report.results.runs as { accepted: number }[])[0]!.accepted, 200)
  const line = logged.find(s => s.startsWith('scraped '))
  t.match(line, /^scraped http:\/\/127\.0\.0\.1:\d+\/metrics (\d+) times$/)
  t.ok(Number(/(\d+) times/.exec(line ?? '')?.[1]) >= 2, 'scraped at the start and at the end at least')
})

t.test('--metrics applies to the local agora only', async t => {
  await t.rejects(run(['ingest', '--url', 'ws://127.0.0.1:9', '--metrics'], { print: () => {}, log: () => {} }), {
    constructor: UsageError,
    message: /--metrics apply to the local agora only/,
  })
})
