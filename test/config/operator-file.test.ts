// The operator's own file: which one `agora start` reads (--config, else ./agora.toml, else none), what it logs
// about it, and that the repo's tooling never writes it.
import t from 'tap'
import { execFile } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { renderDefaults } from '../../config/render.js'
import { databaseFile } from '../../relay/app.js'
import { ensureBuilt, repoRoot, spawnRelay, type CliRelay } from '../helpers/cli.js'
import { tempDir } from '../helpers/relay.js'

ensureBuilt()

// Worker threads would each load the relay's modules again: minutes on a loaded machine, and not what is tested.
const INLINE_TOML = '[store]\nwriter_thread = false\nreader_threads = 0\n[verifier]\nworkers = 0\n'
const INLINE_ENV = { AGORA_STORE_WRITER_THREAD: 'false', AGORA_STORE_READER_THREADS: '0', AGORA_VERIFIER_WORKERS: '0' }

/** A config file naming the relay `name`, on a free port, with its data in `dataDir`, and no worker threads. */
const toml = (name: string, dataDir: string) =>
  `[relay]\nport = 0\nname = ${JSON.stringify(name)}\ndata_dir = ${JSON.stringify(dataDir)}\n${INLINE_TOML}`

const nip11Name = async (relay: CliRelay) =>
  (
    (await (
      await fetch(relay.url.replace('ws:', 'http:'), { headers: { Accept: 'application/nostr+json' } })
    ).json()) as { name: string }
  ).name

/** The `config` component's start-up line about the file in use. */
async function fileLine(relay: CliRelay): Promise<{ component: string; msg: string }> {
  const i = await relay.waitForLine(/"component":"config"/, 0)
  return JSON.parse(relay.lines()[i]!) as { component: string; msg: string }
}

/** `npm start`'s command line, as package.json says it. */
const npmStart = () =>
  (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
    .start!

t.test('npm start passes no --config, so it follows the discovery rule', async t => {
  t.equal(npmStart(), 'node dist/relay/cli.js start')
})

t.test('agora start with no --config reads ./agora.toml from its working directory', async t => {
  const dir = tempDir(t, 'agora-operator-')
  writeFileSync(join(dir, 'agora.toml'), toml('from cwd', join(dir, 'data')))
  // Exactly npm start's command line, run where the operator's file is.
  const relay = await spawnRelay(t, npmStart().split(' ').slice(2), { cwd: dir })
  t.equal(await nip11Name(relay), 'from cwd', 'NIP-11 name from ./agora.toml')
  t.match(await fileLine(relay), { component: 'config', msg: `config file ${join(dir, 'agora.toml')}` }, 'logged')
  t.ok(existsSync(databaseFile(join(dir, 'data'))), 'the data dir from the file is used')
})

t.test('--config FILE wins over ./agora.toml', async t => {
  const dir = tempDir(t, 'agora-operator-')
  writeFileSync(join(dir, 'agora.toml'), toml('from cwd', join(dir, 'cwd-data')))
  const other = join(dir, 'other.toml')
  writeFileSync(other, toml('from --config', join(dir, 'data')))
  const relay = await spawnRelay(t, ['start', '--config', other], { cwd: dir })
  t.equal(await nip11Name(relay), 'from --config')
  t.equal((await fileLine(relay)).msg, `config file ${other}`)
  t.notOk(existsSync(join(dir, 'cwd-data')), 'nothing of ./agora.toml applied')
})

t.test('with no --config and no ./agora.toml the relay runs on defaults and says so', async t => {
  const dir = tempDir(t, 'agora-operator-')
  const args = ['start', '--port', '0', '--data', join(dir, 'data')]
  const relay = await spawnRelay(t, args, { cwd: dir, env: INLINE_ENV })
  t.equal(await nip11Name(relay), 'agora', 'the default name')
  t.equal(
    (await fileLine(relay)).msg,
    'no config file (no --config, no ./agora.toml): schema defaults, AGORA_* environment and flags',
  )
})

t.test('npm run config:generate writes the reference and leaves the operator files alone', async t => {
  // A copy of the checkout's layout: its package.json (the scripts), its build, an operator's ./agora.toml and a
  // config/agora.toml left over from before the reference had its own name.
  const dir = tempDir(t, 'agora-generate-')
  copyFileSync(join(repoRoot, 'package.json'), join(dir, 'package.json'))
  symlinkSync(join(repoRoot, 'dist'), join(dir, 'dist'))
  mkdirSync(join(dir, 'config'))
  const mine = '# mine\n[relay]\nname = "my relay"\n'
  writeFileSync(join(dir, 'agora.toml'), mine)
  writeFileSync(join(dir, 'config', 'agora.toml'), mine)
  await promisify(execFile)('npm', ['run', '--silent', 'config:generate'], { cwd: dir, timeout: 60_000 })
  t.equal(readFileSync(join(dir, 'agora.toml'), 'utf8'), mine, './agora.toml is untouched')
  t.equal(readFileSync(join(dir, 'config', 'agora.toml'), 'utf8'), mine, 'config/agora.toml is untouched')
  t.equal(readFileSync(join(dir, 'config', 'agora.reference.toml'), 'utf8'), renderDefaults(), 'the reference')
  t.same(readdirSync(join(dir, 'config')).sort(), ['agora.reference.toml', 'agora.toml'], 'nothing else written')
  t.same(readdirSync(dir).sort(), ['agora.toml', 'config', 'dist', 'package.json'])
})
