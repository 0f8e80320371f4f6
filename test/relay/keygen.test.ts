// agora keygen: the relay key is created once with mode 0600; replacing it (--force) changes who signs every output,
// so the command says what changes and asks first, on a terminal, or takes --yes.
import t, { type Test } from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { getPublicKey } from 'nostr-tools/pure'
import { hexToBytes } from '@noble/curves/utils.js'
import { cliPath, ensureBuilt, repoRoot, runCli } from '../helpers/cli.js'
import { tempDir } from '../helpers/relay.js'

/** A data dir with a relay key made by `agora keygen`; its path, key file and pubkey. */
async function withKey(t: Test) {
  const dir = tempDir(t)
  const r = await runCli(['keygen', '--data', dir])
  t.equal(r.code, 0, r.stderr)
  const file = join(dir, 'relay.key')
  return { dir, file, pubkey: r.stdout.trim(), secret: readFileSync(file, 'utf8') }
}

const pubkeyOf = (file: string) => getPublicKey(hexToBytes(readFileSync(file, 'utf8').trim()))
const mode = (file: string) => statSync(file).mode & 0o777

t.test('keygen creates the key with mode 0600 and prints its pubkey; without --force it keeps one', async t => {
  const k = await withKey(t)
  t.match(k.pubkey, /^[0-9a-f]{64}$/)
  t.equal(pubkeyOf(k.file), k.pubkey, 'the pubkey of the key written')
  t.equal(mode(k.file), 0o600)
  const again = await runCli(['keygen', '--data', k.dir])
  t.equal(again.code, 1)
  t.equal(again.stderr, `agora: ${k.file} exists; pass --force to replace it\n`)
  t.equal(readFileSync(k.file, 'utf8'), k.secret, 'the key is unchanged')
})

t.test('keygen --force without a terminal and without --yes explains what changes and exits 2', async t => {
  const k = await withKey(t)
  const r = await runCli(['keygen', '--force', '--data', k.dir])
  t.equal(r.code, 2)
  t.equal(r.stdout, '')
  t.match(r.stderr, `agora: replacing ${k.file} changes the relay's identity`)
  t.match(r.stderr, `changes from ${k.pubkey} to a new one`, 'names the pubkey that goes')
  t.match(r.stderr, /NIP-85, kind 30382\), job ledger entries \(31118\)/, 'the outputs the new key signs')
  t.match(r.stderr, /clients that trust the old key/)
  t.match(r.stderr, /escrows locked to the old key/)
  t.match(r.stderr, /pass --yes to replace it \(there is no terminal to ask on\)\n$/)
  t.equal(readFileSync(k.file, 'utf8'), k.secret, 'the key is unchanged')
})

t.test('keygen --force --yes replaces the key, with mode 0600 even where the old file was readable', async t => {
  const k = await withKey(t)
  chmodSync(k.file, 0o644)
  const r = await runCli(['keygen', '--force', '--yes', '--data', k.dir])
  t.equal(r.code, 0, r.stderr)
  const pubkey = r.stdout.trim()
  t.match(pubkey, /^[0-9a-f]{64}$/)
  t.not(pubkey, k.pubkey, 'a new pubkey')
  t.equal(pubkeyOf(k.file), pubkey, 'the file holds the new key')
  t.equal(mode(k.file), 0o600)
  t.notOk(existsSync(`${k.file}.tmp`), 'nothing is left beside it')
})

// util-linux `script` runs the command on a pseudo-terminal, as an operator at a shell would.
const hasScript = spawnSync('script', ['--version']).status === 0

/** Runs `agora keygen --force` on a terminal, answering `answer`; resolves with its exit code. */
function keygenOnTerminal(dir: string, answer: string): Promise<number | null> {
  ensureBuilt()
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`
  const command = [process.execPath, cliPath, 'keygen', '--force', '--data', dir].map(quote).join(' ')
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AGORA_')))
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    cwd: repoRoot,
    env,
    stdio: ['pipe', 'ignore', 'ignore'],
  })
  child.stdin.write(`${answer}\n`)
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  return new Promise(resolve =>
    child.once('exit', code => {
      clearTimeout(timer)
      child.stdin.destroy()
      resolve(code)
    }),
  )
}

t.test(
  'keygen --force on a terminal asks, and replaces the key only on yes',
  { skip: hasScript ? false : 'needs util-linux script for a terminal' },
  async t => {
    const k = await withKey(t)
    t.equal(await keygenOnTerminal(k.dir, 'n'), 1, 'no: exit 1')
    t.equal(readFileSync(k.file, 'utf8'), k.secret, 'the key is unchanged')
    t.equal(await keygenOnTerminal(k.dir, 'y'), 0, 'yes: exit 0')
    t.not(pubkeyOf(k.file), k.pubkey, 'a new key')
    t.equal(mode(k.file), 0o600)
  },
)
