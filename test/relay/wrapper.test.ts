// ./agora, the checkout's way to run the CLI: it runs the built dist/relay/cli.js and never builds, and says what
// to do when there is nothing built.
import t from 'tap'
import { execFile } from 'node:child_process'
import { copyFileSync, readdirSync, statSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { ensureBuilt, repoRoot } from '../helpers/cli.js'
import { tempDir } from '../helpers/relay.js'

const wrapper = join(repoRoot, 'agora')

/** Runs `file ARGS` from `cwd`; resolves with its exit code and output. */
const run = (file: string, args: string[], cwd: string) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>(resolve =>
    execFile(file, args, { cwd, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    ),
  )

/** Every file under dist/ with its modification time. */
const distTimes = () =>
  new Map(
    readdirSync(join(repoRoot, 'dist'), { recursive: true, encoding: 'utf8' }).map(f => [
      f,
      statSync(join(repoRoot, 'dist', f)).mtimeMs,
    ]),
  )

t.test('./agora --help runs the built CLI and builds nothing', async t => {
  ensureBuilt()
  const before = distTimes()
  const r = await run(wrapper, ['--help'], tempDir(t))
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /^usage:\n {2}agora start/, 'the usage')
  t.same(distTimes(), before, 'no file under dist/ was written, added or removed')
})

t.test('./agora through a symlink elsewhere still finds its checkout', async t => {
  ensureBuilt()
  const dir = tempDir(t)
  symlinkSync(wrapper, join(dir, 'agora'))
  const r = await run(join(dir, 'agora'), ['--help'], dir)
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /^usage:/)
})

t.test('./agora without a build says to build, and exits 1', async t => {
  const dir = tempDir(t)
  copyFileSync(wrapper, join(dir, 'agora'))
  const r = await run(join(dir, 'agora'), ['--help'], dir)
  t.equal(r.code, 1)
  t.equal(r.stdout, '')
  t.match(r.stderr, /^agora: .*\/dist\/relay\/cli\.js is missing: run `npm run build` \(or `npm install`\)/)
})
