// The client's commands as separate processes, as a user runs them: `agora agent` running until stopped, and the
// customer's one-shot commands, each with its own key file in a temp dir.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { bytesToHex } from '@noble/curves/utils.js'
import { ownChild } from '../../bench/cleanup.js'
import { ensureBuilt, repoRoot, runCli, spawnCli, type CliProcess, type CliResult } from './cli.js'
import { tempDir } from './relay.js'

type Teardown = { teardown(fn: () => unknown): void }

/** A key file (mode 0600) in a temp dir, and its pubkey. */
export function keyFile(t: Teardown): { file: string; pubkey: string; dir: string } {
  const dir = tempDir(t, 'agora-client-')
  const sk = generateSecretKey()
  const file = join(dir, 'key')
  writeFileSync(file, bytesToHex(sk) + '\n', { mode: 0o600 })
  return { file, pubkey: getPublicKey(sk), dir }
}

export type AgentProcess = CliProcess & { readonly pubkey: string; readonly key: string; readonly dir: string }

/** Starts `agora agent` against `relays` with `args` and waits until it has announced itself. */
export async function startAgentCli(
  t: Teardown,
  relays: string[],
  args: string[],
  o: { key?: { file: string; pubkey: string; dir: string }; readyMs?: number } = {},
): Promise<AgentProcess> {
  const key = o.key ?? keyFile(t)
  const p = spawnCli(t, ['agent', ...relays.flatMap(r => ['--relay', r]), '--key', key.file, ...args])
  await p.waitForLine(/agora agent: ready$/, 0, o.readyMs ?? 60_000)
  return { ...p, pubkey: key.pubkey, key: key.file, dir: key.dir }
}

/** Runs a customer command against `relays` with a key file; resolves with its exit code and output. */
export function customer(relays: string[], key: string, args: string[], timeoutMs = 90_000): Promise<CliResult> {
  return runCli([...args, ...relays.flatMap(r => ['--relay', r]), '--key', key], { timeoutMs })
}

/** Starts the bench's @nostr-relay/core peer (a relay with no market and no NIP-11) on a temp dir; its URL. */
export async function startPeerRelay(t: Teardown): Promise<string> {
  ensureBuilt()
  const child = spawn(process.execPath, [join(repoRoot, 'dist/bench/peer-nostr-relay.js'), '--data', tempDir(t)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  ownChild(child)
  const exited = new Promise(resolve => child.once('exit', resolve))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  return new Promise<string>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`the peer relay did not listen in 120 s: ${out}`)), 120_000)
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s
      const m = /listening (ws:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    })
  })
}
