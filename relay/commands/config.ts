// agora config check FILE: validate an operator's file without starting; agora config show: print the effective
// config as TOML (secrets hidden).
import { resolve } from 'node:path'
import { stringify } from 'smol-toml'
import { changedKeys, describeChanges, redact } from '../../config/changes.js'
import { ConfigError, loadConfig } from '../../config/load.js'
import type { Config } from '../../config/schema.js'

/**
 * Checks `file` alone (no environment, no flags), as `agora start --config FILE` would read it. Prints what it sets
 * and returns true, or prints every problem to stderr and returns false.
 */
export function configCheck(file: string): boolean {
  let cfg: Config
  try {
    cfg = loadConfig({ file, env: {} })
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    const n = err.problems.length
    console.error(`agora: ${file}: ${n} problem${n === 1 ? '' : 's'}`)
    for (const p of err.problems) console.error(`  ${p}`)
    return false
  }
  const changes = changedKeys(loadConfig({ env: {} }), cfg)
  const summary = changes.length
    ? `${changes.length} ${changes.length === 1 ? 'key differs' : 'keys differ'} from the defaults: ${describeChanges(changes)}`
    : 'every key has its default'
  console.log(`${file}: ok; ${summary}`)
  return true
}

/** Prints `cfg` as TOML, secrets hidden, after a comment saying where it came from. */
export function configShow(cfg: Config, file: string | undefined): void {
  const from = file ? resolve(file) : 'no config file'
  console.log(`# effective config: schema defaults, ${from}, AGORA_* environment, flags\n${stringify(redact(cfg))}`)
}
