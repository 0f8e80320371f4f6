// The relay's logger: pino, one record per line with a level, a time and a component. JSON lines when stderr
// is a file or a pipe (journald, docker, a collector), readable lines on a terminal. stdout stays for results.
import { pino, type Logger } from 'pino'
import pretty from 'pino-pretty'

export type Log = Logger

/** A logger writing to stderr; `pretty` defaults to whether stderr is a terminal. */
export function createLog(level: string, opts: { pretty?: boolean } = {}): Log {
  const options = { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }
  // Synchronous writes: records logged just before exit (a fatal start error, the drain) are never lost.
  if (opts.pretty ?? process.stderr.isTTY)
    return pino(options, pretty({ sync: true, destination: 2, translateTime: 'SYS:standard', ignore: 'component' }))
  return pino(options, pino.destination({ dest: 2, sync: true }))
}
