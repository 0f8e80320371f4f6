// agora keygen: create the relay key in the data dir (mode 0600) and print its pubkey. With --force it replaces
// the key that signs everything the relay publishes, so it says what that changes and asks first.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline/promises'
import type { Config } from '../../config/schema.js'
import { createKeyFile, keyFile, readPubkey } from '../identity.js'

/** What replacing the key at `file` (whose pubkey is `old`) changes. */
const consequences = (file: string, old: string | undefined) => `replacing ${file} changes the relay's identity:
  - its pubkey (NIP-11 \`self\`) changes from ${old ?? '(unreadable key)'} to a new one;
  - its reputation assertions (NIP-85, kind 30382), job ledger entries (31118), escrow rulings and records (7118)
    and workflow steps are signed by the new key from its next start; those the old key signed stay stored;
  - clients that trust the old key (to read reputation and ledgers, or as a root of standing) ignore what the
    new key signs until they are given its pubkey;
  - escrows locked to the old key (2-of-3 with the relay) can no longer be released or ruled by the relay:
    only the provider and customer together, or the customer alone after the locktime, can move them.`

/** Asks on the terminal; true for y or yes. */
async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim())
  } finally {
    rl.close()
  }
}

/**
 * Writes the key and prints its pubkey. Replacing one takes `force`, then `yes` or a yes on the terminal;
 * without a terminal to ask on it explains and exits 2.
 */
export async function keygen(cfg: Config, o: { force: boolean; yes: boolean }): Promise<void> {
  const dir = resolve(cfg.relay.data_dir)
  const file = keyFile(dir)
  if (o.force && existsSync(file) && !o.yes) {
    const why = consequences(file, readPubkey('', dir))
    if (!process.stdin.isTTY) {
      console.error(`agora: ${why}\nagora: pass --yes to replace it (there is no terminal to ask on)`)
      process.exitCode = 2
      return
    }
    console.error(`agora: ${why}`)
    if (!(await confirm('Replace the relay key? [y/N] '))) {
      console.error('agora: the key is unchanged')
      process.exitCode = 1
      return
    }
  }
  const pubkey = createKeyFile(dir, o.force)
  console.error(`agora: wrote ${file}`)
  if (cfg.relay.secret_key.trim())
    console.error('agora: relay.secret_key is set, so the relay signs with that, not this file')
  console.log(pubkey)
}
