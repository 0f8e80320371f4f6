// The relay under test: a local agora started as a child process (so its CPU and memory are measured apart
// from the load generator), or any relay URL. Server resources come from /proc/<pid> when the pid is known.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { envName } from '../config/load.js'
import { ownChild, ownTempDir } from './cleanup.js'

/** The repository root: the nearest directory with a package.json above this file (source or dist/). */
export const repoRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir)
  return dir
})()
const cliPath = join(repoRoot, 'dist/relay/cli.js')

export type Target = {
  readonly url: string
  /** True when the harness started the relay itself. */
  readonly local: boolean
  /** The server process, when known (local, or --pid): resources are measured from /proc. */
  readonly pid: number | undefined
  /** The verifier backend the relay logged at start (local only). */
  readonly verifier: string | undefined
  close(): Promise<void>
}

/** Config overrides for the local relay, as AGORA_* variables (flags of `agora start` cover only a few keys). */
export type Overrides = Readonly<Record<string, string>>

/** The environment without AGORA_* variables, plus the overrides. */
function relayEnv(overrides: Overrides): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AGORA_')))
  for (const [key, value] of Object.entries(overrides)) env[envName(key)] = value
  return env
}

function requireBuilt(): void {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run \`npm run build\` first`)
}

/** Runs `agora ARGS` to completion (e.g. import); rejects with its stderr when it fails or takes too long. */
export function runAgora(args: readonly string[], overrides: Overrides, timeoutMs: number): Promise<string> {
  requireBuilt()
  const child = spawn(process.execPath, [cliPath, ...args], {
    env: relayEnv(overrides),
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  ownChild(child)
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-20_000)))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`agora ${args[0]} did not finish in ${timeoutMs / 1000} s`))
    }, timeoutMs)
    child.once('error', reject)
    child.once('close', code => {
      clearTimeout(timer)
      if (code === 0) resolve(stderr)
      else reject(new Error(`agora ${args.join(' ')} exited with ${code}: ${stderr.slice(-2000)}`))
    })
  })
}

/**
 * Starts `agora start --host 127.0.0.1 --port 0 --data DIR --open` and waits up to `timeoutMs` for its listening line.
 * Without `dataDir` it uses a fresh temp dir, removed on close.
 */
export async function startLocalRelay(opts: {
  dataDir?: string
  overrides: Overrides
  timeoutMs: number
}): Promise<Target> {
  requireBuilt()
  const temp = opts.dataDir === undefined ? ownTempDir('agora-bench-') : undefined
  const dir = opts.dataDir ?? temp!.dir
  const args = ['start', '--host', '127.0.0.1', '--port', '0', '--data', dir, '--open']
  const child: ChildProcess = spawn(process.execPath, [cliPath, ...args], {
    env: relayEnv(opts.overrides),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  ownChild(child)
  let stderr = ''
  let stdout = ''
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-20_000)))
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  const removeDir = () => temp?.remove()
  let url: string
  try {
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`agora start did not listen in ${opts.timeoutMs / 1000} s; stderr: ${stderr}`)),
        opts.timeoutMs,
      )
      child.stdout!.setEncoding('utf8').on('data', (s: string) => {
        stdout += s
        const m = /^listening (ws:\/\/\S+)$/m.exec(stdout)
        if (m) {
          clearTimeout(timer)
          resolve(m[1]!)
        }
      })
      void exited.then(() => {
        clearTimeout(timer)
        reject(new Error(`agora start exited before listening; stderr: ${stderr}`))
      })
    })
  } catch (err) {
    child.kill('SIGKILL')
    await exited
    removeDir()
    throw err
  }
  // The verifier line is written to stderr just before the listening line; give the pipe a moment.
  const verifierRe = /, verifier (.+?), data /
  for (let i = 0; i < 50 && !verifierRe.test(stderr); i++) await new Promise(r => setTimeout(r, 20))
  let closing: Promise<void> | undefined
  return {
    url,
    local: true,
    pid: child.pid,
    verifier: verifierRe.exec(stderr)?.[1],
    close: () =>
      (closing ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM')
          const killer = setTimeout(() => child.kill('SIGKILL'), 15_000)
          await exited
          clearTimeout(killer)
        }
        removeDir()
      })()),
  }
}

/** A relay the harness did not start. */
export const remoteRelay = (url: string, pid?: number): Target => ({
  url,
  local: false,
  pid,
  verifier: undefined,
  close: async () => {},
})

// ---- /proc/<pid> readings (Linux) ----

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

/** User plus system CPU seconds the process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may contain spaces) start at field 3; utime and stime are 14 and 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(f[11]) + Number(f[12])) / CLK_TCK
}

/** Resident set size in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) * 1024 : NaN
}

/** Server CPU (all threads) and peak RSS between `start()` and `stop()`, and the load generator's own CPU. */
export type Usage = { cpuPercent: number; peakRssBytes: number; clientCpuPercent: number }

export type Meter = { start(): void; stop(): Usage }

/** A meter for `pid`, sampling its RSS every `ms`; without a pid the server readings are NaN (a remote relay). */
export function meter(pid: number | undefined, ms = 100): Meter {
  let timer: NodeJS.Timeout | undefined
  let cpu0 = 0
  let client0 = process.cpuUsage()
  let t0 = 0
  let peak = 0
  const sample = () => {
    try {
      peak = Math.max(peak, rssBytes(pid!))
    } catch {
      // the process is gone; the scenario notices on its own
    }
  }
  return {
    start() {
      t0 = performance.now()
      client0 = process.cpuUsage()
      if (pid === undefined) return
      cpu0 = cpuSeconds(pid)
      peak = 0
      sample()
      timer = setInterval(sample, ms)
    },
    stop() {
      const seconds = (performance.now() - t0) / 1000
      const c = process.cpuUsage(client0)
      const clientCpuPercent = ((c.user + c.system) / 1e6 / seconds) * 100
      if (pid === undefined) return { cpuPercent: NaN, peakRssBytes: NaN, clientCpuPercent }
      clearInterval(timer)
      sample()
      let cpuPercent = NaN
      try {
        cpuPercent = ((cpuSeconds(pid) - cpu0) / seconds) * 100
      } catch {
        // the process is gone
      }
      return { cpuPercent, peakRssBytes: peak || NaN, clientCpuPercent }
    },
  }
}
