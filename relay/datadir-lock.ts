// One relay or writing command per data dir. The holder keeps a write transaction open on data_dir/agora.lock,
// a small SQLite file: SQLite locks it with a POSIX lock, which the kernel drops when the process ends however
// it ends (kill -9 included). So a lock never goes stale, two processes racing for it are arbitrated by the
// kernel, and a takeover needs no guess about whether a pid still runs. The file also names its holder for the
// refusal message. It stays in the data dir: deleting it while a holder runs would let a second one in.
import Database from 'better-sqlite3'
import { randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'

/** Path of the lock inside a data dir. */
export const lockFile = (dataDir: string) => join(dataDir, 'agora.lock')

export type DataDirLock = {
  /** Frees the data dir; idempotent. */
  release(): void
}

type Holder = { pid: number; host: string; command: string; since: string; token: string }

/** The refusal when another process holds the data dir (a running relay, or a command writing it). */
export class DataDirBusy extends Error {}

/**
 * Takes the data dir (which must exist) for `command`, or throws naming the data dir and the pid holding it.
 * Keep the returned lock referenced until `release`: a garbage-collected connection closes and frees the dir.
 */
export function lockDataDir(dataDir: string, command: string): DataDirLock {
  const file = lockFile(dataDir)
  let db: Database.Database
  try {
    db = new Database(file)
  } catch (err) {
    throw new Error(`cannot open the lock ${file}: ${(err as Error).message}`)
  }
  const me: Holder = {
    pid: process.pid,
    host: hostname(),
    command,
    since: new Date().toISOString(),
    token: randomUUID(),
  }
  // Writes wait out processes that are reading the holder row; taking the lock does not wait for its holder.
  const busyWait = (ms: number) => db.pragma(`busy_timeout = ${ms}`)
  try {
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER, host TEXT, command TEXT, since TEXT, token TEXT)')
    // The holder keeps BEGIN IMMEDIATE's RESERVED lock: others can still read the holder row, none can write.
    // Others cannot read an open transaction, so the row is committed first and the lock taken again; whoever
    // slips in between writes its own row, and the loop ends once the lock is held over this process's row.
    for (;;) {
      busyWait(0)
      db.exec('BEGIN IMMEDIATE')
      const row = db.prepare('SELECT token FROM holder').get() as { token: string } | undefined
      if (row?.token === me.token) break
      db.prepare('DELETE FROM holder').run()
      db.prepare('INSERT INTO holder VALUES (@pid, @host, @command, @since, @token)').run(me)
      busyWait(5000)
      db.exec('COMMIT')
    }
  } catch (err) {
    const busy = (err as { code?: string }).code === 'SQLITE_BUSY'
    if (busy) {
      const message = inUse(db, dataDir, me)
      db.close()
      throw new DataDirBusy(message)
    }
    db.close()
    throw new Error(`cannot take the lock ${file}: ${(err as Error).message}`)
  }
  busyWait(5000)
  return {
    release() {
      if (!db.open) return
      try {
        db.exec('DELETE FROM holder; COMMIT')
      } catch {
        // The row only names the holder; closing ends the transaction and frees the lock either way.
      } finally {
        db.close()
      }
    },
  }
}

/** Runs `fn` (a command that writes the data dir) holding the data dir, created if missing; frees it after. */
export async function whileLocked<T>(dataDir: string, command: string, fn: () => T | Promise<T>): Promise<T> {
  const dir = resolve(dataDir)
  mkdirSync(dir, { recursive: true })
  const lock = lockDataDir(dir, command)
  try {
    return await fn()
  } finally {
    lock.release()
  }
}

/** The refusal: who holds the data dir, as its committed row says. */
function inUse(db: Database.Database, dataDir: string, me: Holder): string {
  let holder: Holder | undefined
  try {
    // The holder may be committing its row this instant.
    db.pragma('busy_timeout = 5000')
    holder = db.prepare('SELECT pid, host, command, since, token FROM holder').get() as Holder | undefined
  } catch {
    holder = undefined // a fresh lock file whose creator has not made its table yet
  }
  // Our own row: another process took the lock between our commit and our lock.
  if (!holder || holder.token === me.token) return `data dir ${dataDir} is in use by another process starting now`
  const host = holder.host === me.host ? '' : ` on host ${holder.host}`
  return `data dir ${dataDir} is in use by pid ${holder.pid}${host} (${holder.command} since ${holder.since})`
}
