// What the harness and the tests start must not outlive them, even when tap kills a test file that ran past its
// timeout (SIGALRM, and no teardown runs): a killed parent takes its child process and temp dir with it.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { ensureBuilt, isAlive, repoRoot } from '../helpers/cli.js'
import { waitFor } from '../helpers/wait.js'

ensureBuilt()

const PARENT = `
const { spawn } = await import('node:child_process')
const { ownChild, ownTempDir } = await import(${JSON.stringify(join(repoRoot, 'dist/bench/cleanup.js'))})
const child = spawn('sleep', ['600'])
ownChild(child)
const { dir } = ownTempDir('agora-cleanup-test-')
console.log(JSON.stringify({ pid: child.pid, dir }))
setInterval(() => {}, 1000)
`

for (const signal of ['SIGALRM', 'SIGTERM', 'SIGINT'] as const)
  t.test(`a parent ended by ${signal} kills its child process and removes its temp dir`, async t => {
    const parent = spawn(process.execPath, ['--input-type=module', '-e', PARENT], { stdio: ['ignore', 'pipe', 'pipe'] })
    t.teardown(() => parent.kill('SIGKILL'))
    let out = ''
    parent.stdout.setEncoding('utf8').on('data', (s: string) => (out += s))
    await waitFor(() => out.includes('\n'), 'the parent to report its child')
    const { pid, dir } = JSON.parse(out) as { pid: number; dir: string }
    t.teardown(() => {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL')
    })
    t.ok(isAlive(pid) && existsSync(dir), 'the child runs and the dir exists while the parent does')
    const exited = new Promise(r => parent.once('exit', r))
    parent.kill(signal)
    await exited
    await waitFor(() => !isAlive(pid), `the child ${pid} to be gone`)
    t.notOk(existsSync(dir), `${dir} was removed`)
  })
