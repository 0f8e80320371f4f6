// Starts a real relay on a loopback port with a fresh SQLite data dir, torn down with the test.
import { ownTempDir } from '../../bench/cleanup.js'
import { loadConfig } from '../../config/load.js'
import type { Config } from '../../config/schema.js'
import { startRelay, type Relay } from '../../relay/app.js'

type Teardown = { teardown(fn: () => unknown): void }

export type TestRelay = { relay: Relay; url: string; dataDir: string; cfg: Config }

/** A fresh temp dir removed at teardown. */
export function tempDir(t: Teardown, prefix = 'agora-test-'): string {
  const { dir, remove } = ownTempDir(prefix)
  t.teardown(remove)
  return dir
}

/** No worker threads: signatures, writes and queries on the event loop (see testConfig). */
export const INLINE = { 'verifier.workers': 0, 'store.writer_thread': false, 'store.reader_threads': 0 } as const

/**
 * Config for tests: loopback, port 0, the given data dir, no environment, anti-spam policies off, and
 * signatures checked, events written and queries run inline (worker threads would each compile the TypeScript sources
 * first, about two seconds per relay; the pool, the writer and the reader threads have their own tests, and the CLI
 * tests run both compiled), plus dotted-key overrides.
 */
export function testConfig(
  dataDir: string,
  flags: Record<string, string | number | boolean | readonly string[]> = {},
): Config {
  return loadConfig({
    env: {},
    flags: {
      'relay.host': '127.0.0.1',
      'relay.port': 0,
      'relay.data_dir': dataDir,
      'policies.open': true,
      'log.level': 'warn',
      ...INLINE,
      ...flags,
    },
  })
}

/** Starts a relay for one test; it and its data dir are removed at teardown. */
export async function startTestRelay(
  t: Teardown,
  flags: Record<string, string | number | boolean | readonly string[]> = {},
  dataDir?: string,
): Promise<TestRelay> {
  const dir = dataDir ?? tempDir(t)
  const cfg = testConfig(dir, flags)
  const relay = await startRelay(cfg)
  t.teardown(() => relay.close())
  return { relay, url: relay.url, dataDir: dir, cfg }
}
