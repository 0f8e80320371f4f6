// Commands beside a running relay: those that write the data dir (import, market rebuild, keygen) refuse, naming
// the relay's pid, and change nothing; those that only read it (export, escrow list) work.
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { keyFile } from '../../relay/identity.js'
import { runCli, startCli } from '../helpers/cli.js'
import { connectFor, putAll } from '../helpers/client.js'
import { heldBy, START_MS } from '../helpers/instance.js'
import { signer } from '../helpers/events.js'
import { tempDir } from '../helpers/relay.js'

t.setTimeout(300_000)

/** The ids of an export's lines. */
const lines = (jsonl: string) =>
  jsonl
    .split('\n')
    .filter(Boolean)
    .map(l => (JSON.parse(l) as { id: string }).id)

t.test('writing commands refuse while a relay holds the data dir and leave it untouched; they work after', async t => {
  const dir = tempDir(t)
  const relay = await startCli(t, dir, START_MS)
  const pid = relay.child.pid!
  const stored = signer().sign({ content: 'stored by the relay' })
  await putAll(await connectFor(t, relay.url), stored)
  const imported = signer().sign({ content: 'imported' })
  const file = join(tempDir(t), 'in.jsonl')
  writeFileSync(file, JSON.stringify(imported) + '\n')
  const key = readFileSync(keyFile(dir), 'utf8')

  for (const args of [
    ['import', file],
    ['market', 'rebuild'],
    ['keygen', '--force'],
  ]) {
    const r = await runCli([...args, '--data', dir])
    const what = args[0] === 'import' ? 'import' : args.join(' ')
    t.equal(r.code, 1, `${what} exits with code 1`)
    t.match(r.stderr, heldBy(dir, pid), `${what} names the data dir and the relay's pid`)
  }
  t.equal(readFileSync(keyFile(dir), 'utf8'), key, 'keygen --force left the relay key alone')

  relay.child.kill('SIGTERM')
  t.equal((await relay.exited).code, 0, 'the relay stops cleanly')
  const before = await runCli(['export', '--data', dir])
  t.same(lines(before.stdout), [stored.id], 'the refused import stored nothing')
  const r = await runCli(['import', file, '--data', dir])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /imported 1, duplicates 0, refused 0/)
  t.same(lines((await runCli(['export', '--data', dir])).stdout).sort(), [stored.id, imported.id].sort())
  t.equal((await runCli(['market', 'rebuild', '--data', dir])).code, 0, 'market rebuild runs once the relay stopped')
})

t.test('export and escrow list read the store beside a running relay', async t => {
  const dir = tempDir(t)
  const relay = await startCli(t, dir, START_MS)
  const e = signer().sign({ content: 'exported while the relay runs' })
  await putAll(await connectFor(t, relay.url), e)
  const exported = await runCli(['export', '--data', dir])
  t.equal(exported.code, 0, exported.stderr)
  t.same(lines(exported.stdout), [e.id])
  const escrows = await runCli(['escrow', 'list', '--data', dir])
  t.equal(escrows.code, 0, escrows.stderr)
  t.equal(escrows.stdout, '', 'no escrows yet')
  t.equal(relay.child.exitCode, null, 'the relay still runs')
})
