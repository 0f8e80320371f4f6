// Reads what a relay has stored, over a fresh connection, so refusal tests can prove nothing changed.
import { rawClient } from './client.js'

/** Ids of the stored events matching `filter` (default: everything up to 5000), newest first. */
export async function storedIds(url: string, filter: Record<string, unknown> = { limit: 5000 }): Promise<string[]> {
  const c = await rawClient(url)
  try {
    const r = await c.req('stored-ids', filter)
    if (r.closed) throw new Error(`storedIds: REQ refused: ${JSON.stringify(r.closed)}`)
    return r.events.map(e => e.id)
  } finally {
    c.close()
  }
}
