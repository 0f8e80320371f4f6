// agora start: run the relay until SIGTERM/SIGINT, then drain and exit, within STOP_DEADLINE_MS. SIGHUP or an edit
// of the config file reloads the config and policies without dropping connections.
import { watch } from 'node:fs'
import { basename, dirname, resolve } from 'node:path'
import { describeChanges } from '../../config/changes.js'
import type { ConfigSources } from '../../config/load.js'
import type { Config } from '../../config/schema.js'
import { startRelay, type Relay } from '../app.js'
import type { Log } from '../log.js'

/** How long a stop may drain (commit queued writes, close connections) before the process exits anyway. */
const STOP_DEADLINE_MS = 20_000

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
  const stop = stopper(relay, log)
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

/** How a stop ends the process; tests pass their own. */
export type Ending = {
  exit(code: 0 | 1): void
  /**
   * Ends the process at once, by SIGKILL: process.exit would first stop the worker threads, and waits for one that
   * is inside a database call (a commit waiting for a lock, a slow disk), or aborts it.
   */
  kill(): void
}

const processEnding: Ending = { exit: code => process.exit(code), kill: () => process.kill(process.pid, 'SIGKILL') }

/**
 * What SIGTERM and SIGINT do: the first drains the relay (commits queued writes, closes connections) and exits 0,
 * or 1 when the drain fails; a drain that outlasts `deadlineMs` ends the process, and so does a second signal.
 */
export function stopper(
  relay: Pick<Relay, 'close'>,
  log: Log,
  deadlineMs = STOP_DEADLINE_MS,
  end: Ending = processEnding,
): (signal: string) => void {
  let stopping = false
  return signal => {
    if (stopping) {
      log.warn(`${signal} again: exiting without waiting for the drain`)
      return end.kill()
    }
    stopping = true
    log.info(`${signal}, draining`)
    // Well inside systemd's default stop timeout (90 s): the relay says why it stops before it is killed.
    const deadline = setTimeout(() => {
      log.error(`not drained after ${deadlineMs / 1000} s: exiting`)
      end.kill()
    }, deadlineMs)
    relay.close().then(
      () => {
        clearTimeout(deadline)
        log.info('stopped')
        end.exit(0)
      },
      (err: unknown) => {
        clearTimeout(deadline)
        log.error(`drain failed: ${err instanceof Error ? err.message : JSON.stringify(err)}`)
        end.exit(1)
      },
    )
  }
}
