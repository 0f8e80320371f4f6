// TOML configs for reload tests: the kind whitelist on (listed kinds only), PoW and rate limits off, loopback; and
// a relay whose PoW rules a test rewrites.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig, type ConfigSources } from '../../config/load.js'
import { startRelay } from '../../relay/app.js'
import { INLINE, tempDir } from './relay.js'

type Teardown = { teardown(fn: () => unknown): void }

/** What a config file says; anything not named keeps the values below. */
export type FileOpts = {
  dataDir: string
  kinds: string[]
  name?: string
  port?: number
  maxMessageLength?: number
  /** Raw TOML appended at the end (its own tables). */
  extra?: string
  /** Raw TOML lines added to [relay]. */
  relayExtra?: string
}

/** A config with the kind whitelist on (listed kinds only), PoW and rate limits off, loopback and port 0. */
export function configToml(o: FileOpts): string {
  return [
    '[relay]',
    'host = "127.0.0.1"',
    `port = ${o.port ?? 0}`,
    `data_dir = ${JSON.stringify(o.dataDir)}`,
    `name = ${JSON.stringify(o.name ?? 'before reload')}`,
    ...(o.relayExtra ? [o.relayExtra] : []),
    '',
    ...(o.maxMessageLength === undefined ? [] : ['[limits]', `max_message_length = ${o.maxMessageLength}`, '']),
    '[policies]',
    'open = false',
    '',
    '[policies.kind_whitelist]',
    'enabled = true',
    `kinds = ${JSON.stringify(o.kinds)}`,
    '',
    '[policies.pow]',
    'enabled = false',
    '',
    '[policies.rate_limit]',
    'enabled = false',
    '',
    o.extra ?? '',
  ].join('\n')
}

/** A relay started from a config file whose `[policies.pow]` lines `write` rewrites (anti-spam on, loopback, port 0). */
export async function startPowFileRelay(t: Teardown, pow: string) {
  const dir = tempDir(t, 'agora-pow-file-')
  const file = join(dir, 'agora.toml')
  const write = (lines: string) =>
    writeFileSync(
      file,
      [
        '[relay]',
        'host = "127.0.0.1"',
        'port = 0',
        `data_dir = ${JSON.stringify(join(dir, 'data'))}`,
        '[policies]',
        'open = false',
        '[policies.pow]',
        lines,
      ].join('\n'),
    )
  write(pow)
  const sources: ConfigSources = { file, env: {}, flags: INLINE }
  const relay = await startRelay(loadConfig(sources), sources)
  t.teardown(() => relay.close())
  return { relay, write }
}
