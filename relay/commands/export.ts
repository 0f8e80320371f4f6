// agora export: stored events as JSONL on stdout, oldest first, exactly as stored.
import { resolve } from 'node:path'
import type { Config } from '../../config/schema.js'
import { databaseFile } from '../app.js'
import { openReadDb } from '../store/db.js'
import { createReader, type ExportRange } from '../store/reader.js'
import { makeProgress } from './progress.js'

export async function exportEvents(cfg: Config, range: ExportRange): Promise<number> {
  const reader = createReader(openReadDb(databaseFile(resolve(cfg.relay.data_dir))))
  const progress = makeProgress('exported')
  let n = 0
  let chunk: string[] = []
  const flush = async () => {
    if (chunk.length === 0) return
    const ok = process.stdout.write(chunk.join(''))
    chunk = []
    if (!ok) await new Promise(r => process.stdout.once('drain', r))
  }
  try {
    for (const raw of reader.exportRows(range)) {
      chunk.push(raw + '\n')
      if (++n % 1000 === 0) {
        await flush()
        progress.update(n)
      }
    }
    await flush()
  } finally {
    reader.close()
    progress.done()
  }
  console.error(`agora: exported ${n} events`)
  return n
}
