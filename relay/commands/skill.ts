// agora skill: prints the relay's /skill.md for a config, as the running relay would serve it, without starting one.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Config } from '../../config/schema.js'
import { policyInfo } from '../../policies/index.js'
import { databaseFile, listenUrl } from '../app.js'
import { readPubkey } from '../identity.js'
import { emptyManaged, withInfo } from '../management/state.js'
import { buildSkill, publicUrl } from '../skill.js'
import { openReadDb } from '../store/db.js'
import { loadManaged } from '../store/management.js'

/** What the operator set through the management API (NIP-86), read from the store when there is one. */
function storedManagement(dataDir: string) {
  const file = databaseFile(dataDir)
  if (!existsSync(file)) return emptyManaged()
  const db = openReadDb(file)
  try {
    return loadManaged(db)
  } finally {
    db.close()
  }
}

/** The document for `cfg`: its URL is relay.url, else the listen address; its key is read, never created. */
export function skill(cfg: Config): string {
  const dataDir = resolve(cfg.relay.data_dir)
  const managed = storedManagement(dataDir)
  return buildSkill(withInfo(managed, cfg), {
    url: publicUrl(cfg, '', listenUrl(cfg.relay.host, cfg.relay.port)),
    pubkey: readPubkey(cfg.relay.secret_key, dataDir),
    policies: policyInfo(cfg),
    kindVerdicts: managed.kinds,
  })
}
