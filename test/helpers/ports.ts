// Loopback ports for tests that must know a port before anything listens on it (a relay started again on its port).
import { createServer } from 'node:net'

/**
 * A loopback port below the ephemeral range (32768+) that nothing listens on now: a client reconnecting to an
 * ephemeral port nobody listens on can connect to itself (a TCP self-connect), which a restart test must not meet.
 */
export async function freeLowPort(): Promise<number> {
  for (let tries = 0; ; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000)
    const free = await new Promise<boolean>(resolve => {
      const s = createServer()
      s.once('error', () => resolve(false))
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
    })
    if (free) return port
    if (tries > 50) throw new Error('no free port below 32768')
  }
}
