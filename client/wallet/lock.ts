// The wallet's lock file: one writer at a time across processes (the agent and the CLI may share a wallet).
// The lock is a file created with O_EXCL holding its owner's pid; a lock whose pid is dead is taken over.
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { ClientError } from '../errors.js'

// A lock file seen empty this long is a crash between its creation and the pid being written.
const EMPTY_GRACE_MS = 2000

/** Runs `fn` holding `lockFile`, waiting up to `timeoutMs` for another holder to let go. */
export async function withFileLock<T>(lockFile: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  await acquire(lockFile, timeoutMs)
  try {
    return await fn()
  } finally {
    release(lockFile)
  }
}

async function acquire(lockFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    const holder = tryCreate(lockFile)
    if (holder === undefined) return
    if (isStale(lockFile, holder)) {
      removeIfStill(lockFile, holder)
      continue
    }
    if (Date.now() >= deadline) {
      const who = holder === '' ? 'another process' : `process ${holder}`
      throw new ClientError(
        `the wallet is in use by ${who} (lock file ${lockFile}); try again, or remove the lock file if no such process runs`,
      )
    }
    await sleep(wait)
  }
}

/** Creates the lock holding this pid: undefined when it did, else what the existing lock holds ('' if unreadable). */
function tryCreate(lockFile: string): string | undefined {
  let fd: number
  try {
    fd = openSync(lockFile, 'wx', 0o600)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    return readHolder(lockFile)
  }
  try {
    writeSync(fd, String(process.pid))
  } finally {
    closeSync(fd)
  }
  return undefined
}

function readHolder(lockFile: string): string {
  try {
    return readFileSync(lockFile, 'utf8').trim()
  } catch {
    return ''
  }
}

/** Whether the holder is gone: its pid is dead, or the lock stayed empty past the grace time. */
function isStale(lockFile: string, holder: string): boolean {
  if (holder === '') {
    try {
      return Date.now() - statSync(lockFile).mtimeMs > EMPTY_GRACE_MS
    } catch {
      return true // removed meanwhile: try again at once
    }
  }
  const pid = Number(holder)
  if (!Number.isSafeInteger(pid) || pid <= 0) return true
  try {
    process.kill(pid, 0)
    return false
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code !== 'EPERM'
  }
}

/** Removes a stale lock, unless someone took it over since it was read. */
function removeIfStill(lockFile: string, holder: string): void {
  if (readHolder(lockFile) !== holder) return
  try {
    unlinkSync(lockFile)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}

function release(lockFile: string): void {
  try {
    unlinkSync(lockFile)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}
