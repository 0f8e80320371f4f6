// agora start: run the relay until SIGTERM/SIGINT, then drain and exit. SIGHUP or an edit of the
// config file reloads the config and policies without dropping connections.
import { watch } from 'node:fs'
import { basename, dirname, resolve } from 'node:path'
import { describeChanges } from '../../config/changes.js'
import type { ConfigSources } from '../../config/load.js'
import type { Config } from '../../config/schema.js'
import { startRelay, type Relay } from '../app.js'

function reload(relay: Relay, why: string): void {
  const r = relay.reload()
  const log = relay.log.child({ component: 'config' })
  if (!r.ok) return log.error(`${why}: config not reloaded, keeping the running one: ${r.error}`)
  const changed = r.changes.length ? `: ${describeChanges(r.changes)}` : ', nothing changed'
  const pending = r.pending.length ? `; needs a restart to change: ${r.pending.join(', ')}` : ''
  log.info({ changed: r.changes.map(c => c.key), pending: r.pending }, `${why}: config reloaded${changed}${pending}`)
}

/** Watches the config file's directory, since editors replace files rather than write them in place. */
function watchFile(file: string, onChange: () => void): void {
  let timer: NodeJS.Timeout | undefined
  const name = basename(file)
  watch(dirname(resolve(file)), (_event, changed) => {
    if (changed !== name) return
    clearTimeout(timer)
    timer = setTimeout(onChange, 100)
  }).unref()
}

export async function start(cfg: Config, sources: ConfigSources): Promise<void> {
  const relay = await startRelay(cfg, sources)
  relay.log
    .child({ component: 'config' })
    .info(
      sources.file
        ? `config file ${resolve(sources.file)}`
        : 'no config file (no --config, no ./agora.toml): schema defaults, AGORA_* environment and flags',
    )
  const log = relay.log.child({ component: 'relay' })
  log.info(`relay pubkey ${relay.pubkey}, verifier ${relay.verifier}, data ${cfg.relay.data_dir}`)
  console.log(`listening ${relay.url}`)
  log.info(`listening ${relay.url}`)
  process.on('SIGHUP', () => reload(relay, 'SIGHUP'))
  if (sources.file) watchFile(sources.file, () => reload(relay, `${sources.file} changed`))
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info(`${signal}, draining`)
    await relay.close()
    log.info('stopped')
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
}
