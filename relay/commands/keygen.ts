// agora keygen: create the relay key in the data dir (mode 0600) and print its pubkey.
import { resolve } from 'node:path'
import type { Config } from '../../config/schema.js'
import { createKeyFile, keyFile } from '../identity.js'

export function keygen(cfg: Config, force: boolean): void {
  const dir = resolve(cfg.relay.data_dir)
  const pubkey = createKeyFile(dir, force)
  console.error(`agora: wrote ${keyFile(dir)}`)
  console.log(pubkey)
}
