// agora start: run the relay until SIGTERM/SIGINT, then drain and exit.
import type { Config } from '../../config/schema.js'
import { startRelay } from '../app.js'

export async function start(cfg: Config): Promise<void> {
  const relay = await startRelay(cfg)
  console.error(`agora: relay pubkey ${relay.pubkey}, verifier ${relay.verifier}, data ${cfg.relay.data_dir}`)
  console.log(`listening ${relay.url}`)
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    console.error(`agora: ${signal}, draining`)
    await relay.close()
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
}
