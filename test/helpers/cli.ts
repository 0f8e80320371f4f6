// Runs the built CLI (dist/relay/cli.js) as a child process with the same node, for crash and import/export tests.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, openSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ownChild, ownTempDir } from '../../bench/cleanup.js'

type Teardown = { teardown(fn: () => unknown): void }

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
export const cliPath = join(repoRoot, 'dist/relay/cli.js')

/** The environment without AGORA_* variables, so the caller's shell cannot change the config under test. */
export const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AGORA_')))

let emptyDir: string | undefined
/**
 * The working directory of spawned commands unless a test names one: empty, so that an operator's ./agora.toml in
 * the checkout cannot change the config under test either. Made once per test file, removed when it ends.
 */
export function defaultCwd(): string {
  return (emptyDir ??= ownTempDir('agora-cli-cwd-').dir)
}

/**
 * Tests run from TypeScript source but the CLI runs from dist/: build once if dist/relay/cli.js is missing,
 * and fail clearly if it is still missing. (A stale dist/ is not detected: run `npm run build` first.)
 */
export function ensureBuilt(): void {
  if (existsSync(cliPath)) return
  try {
    execFileSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: 'pipe', timeout: 180_000 })
  } catch (err) {
    throw new Error(`dist/relay/cli.js is missing and \`npm run build\` failed: ${(err as Error).message}`)
  }
  if (!existsSync(cliPath)) throw new Error('dist/relay/cli.js is missing after `npm run build`')
}

export type CliResult = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/**
 * Runs `agora ARGS` to completion; with `stdoutFile`, stdout goes to that file (like `> file`) instead of `stdout`;
 * `env` adds AGORA_* variables; `cwd` is where it runs (by default an empty directory).
 */
export function runCli(
  args: string[],
  opts: { stdoutFile?: string; timeoutMs?: number; env?: Record<string, string>; cwd?: string } = {},
): Promise<CliResult> {
  ensureBuilt()
  const outFd = opts.stdoutFile === undefined ? undefined : openSync(opts.stdoutFile, 'w')
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd: opts.cwd ?? defaultCwd(),
    env: { ...cleanEnv(), ...opts.env },
    stdio: ['ignore', outFd ?? 'pipe', 'pipe'],
  })
  ownChild(child)
  if (outFd !== undefined) closeSync(outFd)
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s))
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(
        new Error(
          `agora ${args.join(' ')} did not finish in ${opts.timeoutMs ?? 60_000} ms; stderr: ${stderr.slice(-500)}`,
        ),
      )
    }, opts.timeoutMs ?? 60_000)
    child.once('error', reject)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

/** A relay started with `agora start`, with its stderr split into lines. */
export type CliRelay = {
  readonly child: ChildProcess
  readonly url: string
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Everything written to stderr so far. */
  stderr(): string
  /** Complete stderr lines so far. */
  lines(): string[]
  /**
   * Waits for the first stderr line at index `from` or later that matches `re`; resolves with its index.
   * Rejects after `timeoutMs`, or when the process exits first.
   */
  waitForLine(re: RegExp, from: number, timeoutMs?: number): Promise<number>
}

/** Starts `agora start --port PORT --data DIR --open` (port 0 by default) and waits for its `listening` line. */
export const startCli = (t: Teardown, dataDir: string, timeoutMs = 90_000, port = 0) =>
  spawnRelay(t, ['start', '--port', String(port), '--data', dataDir, '--open'], { timeoutMs })

/** Starts `agora start --config FILE`: the file decides everything, including port and data dir. */
export const startCliWithConfig = (t: Teardown, file: string, timeoutMs = 90_000) =>
  spawnRelay(t, ['start', '--config', file], { timeoutMs })

/** A running `agora` process, with its stderr split into lines. */
export type CliProcess = Omit<CliRelay, 'url'> & {
  /** Everything written to stdout so far. */
  stdout(): string
  /** Sends `signal` and resolves when the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/**
 * Starts `agora ARGS` (with `env` added) in `cwd` (by default an empty directory); a process still running at
 * teardown is killed.
 */
export function spawnCli(t: Teardown, args: string[], env: Record<string, string> = {}, cwd?: string): CliProcess {
  ensureBuilt()
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd: cwd ?? defaultCwd(),
    env: { ...cleanEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  ownChild(child)
  let stderr = ''
  let stdout = ''
  const lines: string[] = []
  const listeners = new Set<() => void>()
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    stdout += s
    for (const l of [...listeners]) l()
  })
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s
    const parts = stderr.split('\n')
    // Everything before the last newline is complete; keep line indexes stable as text arrives.
    for (let i = lines.length; i < parts.length - 1; i++) lines.push(parts[i]!)
    for (const l of [...listeners]) l()
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(resolve =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  })

  const waitForLine = (re: RegExp, from: number, ms = 60_000) =>
    new Promise<number>((resolve, reject) => {
      const check = () => {
        const i = lines.findIndex((l, n) => n >= from && re.test(l))
        if (i < 0) return
        done()
        resolve(i)
      }
      const done = () => {
        listeners.delete(check)
        clearTimeout(timer)
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`no stderr line matching ${re} in ${ms} ms; stderr since: ${lines.slice(from).join(' | ')}`))
      }, ms)
      void exited.then(({ code, signal }) => {
        done()
        reject(new Error(`agora exited (code ${code}, signal ${signal}) while waiting for ${re}; stderr: ${stderr}`))
      })
      listeners.add(check)
      check()
    })

  const stop = (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    return exited
  }
  return {
    child,
    exited,
    stderr: () => stderr,
    stdout: () => stdout,
    lines: () => [...lines],
    waitForLine,
    stop,
  }
}

/**
 * Runs the CLI with `args` (in `opts.cwd`, with `opts.env` added) and waits for its listening line; a process still
 * running at teardown is killed.
 */
export async function spawnRelay(
  t: Teardown,
  args: string[],
  opts: { timeoutMs?: number; cwd?: string; env?: Record<string, string> } = {},
): Promise<CliRelay> {
  const timeoutMs = opts.timeoutMs ?? 20_000
  const p = spawnCli(t, args, opts.env, opts.cwd)
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`agora start did not listen in ${timeoutMs} ms; stderr: ${p.stderr()}`)),
      timeoutMs,
    )
    p.child.stdout!.on('data', () => {
      const m = /^listening (ws:\/\/\S+)$/m.exec(p.stdout())
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    })
    void p.exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(new Error(`agora start exited (code ${code}, signal ${signal}) before listening; stderr: ${p.stderr()}`))
    })
  })
  return { child: p.child, url, exited: p.exited, stderr: p.stderr, lines: p.lines, waitForLine: p.waitForLine }
}

/** True while a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
