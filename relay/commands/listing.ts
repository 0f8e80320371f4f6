// What the operator's read-only commands share: the store opened beside a running relay, and plain-text tables
// whose cells from events (names, prices) cannot drive the terminal.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Config } from '../../config/schema.js'
import { databaseFile } from '../app.js'
import { openReadDb, type Db } from '../store/db.js'

/** The configured store, read-only: it never writes, so it runs beside the relay. */
export function openStore(cfg: Config): Db {
  const file = databaseFile(resolve(cfg.relay.data_dir))
  if (!existsSync(file)) throw new Error(`no database at ${file} (is --data the relay's data dir?)`)
  return openReadDb(file)
}

/** Text from an event made printable: control and format characters as '?', cut to `max` characters. */
export function printable(text: string, max: number): string {
  const t = text.replace(/\p{C}/gu, '?')
  return t.length > max ? `${t.slice(0, max - 1)}…` : t
}

/** Unix seconds as an ISO date to the second (UTC). */
export const isoTime = (s: number) => {
  const d = new Date(s * 1000)
  return Number.isNaN(d.getTime()) ? String(s) : d.toISOString().replace('.000Z', 'Z')
}

/** One line of a table: each cell padded to its column's width, the columns in `right` aligned right. */
export const tableRow = (cells: readonly string[], widths: readonly number[], right: ReadonlySet<number>) =>
  cells
    .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
    .join('  ')
    .trimEnd()
