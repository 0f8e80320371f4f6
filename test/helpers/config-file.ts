// A TOML config for reload tests: the kind whitelist on (listed kinds only), PoW and rate limits off, loopback.

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
