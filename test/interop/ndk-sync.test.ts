// Interop: @nostr-dev-kit/sync, NDK's NIP-77 client (an independent negentropy implementation), reconciles its cache
// with an agora relay and fetches exactly the events it lacks. It runs on Node 20 (with ws as the global WebSocket), and
// its NEG-OPEN carries a list of filters where NIP-77 names one, which agora takes as their union.
import t from 'tap'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ownChild } from '../../bench/cleanup.js'
import type { NostrEvent } from '../../nips/nip01.js'
import { repoRoot } from '../helpers/cli.js'
import { connectFor, putAll } from '../helpers/client.js'
import { fastSigner } from '../helpers/events.js'
import { startTestRelay, tempDir } from '../helpers/relay.js'

type NdkResult = {
  connected: boolean
  need: string[]
  have: string[]
  fetched: string[]
  saved: string[]
  errors: string[]
}

t.test(
  '@nostr-dev-kit/sync needs exactly the events only the relay holds, and has those only its cache holds',
  async t => {
    const { url } = await startTestRelay(t)
    const author = fastSigner()
    const events = Array.from({ length: 60 }, (_, i) =>
      author.sign({ content: `note ${i}`, created_at: 1_780_000_000 + i }),
    )
    const onRelay = events.filter((_, i) => i % 3 !== 0)
    const cacheOnly = events.filter((_, i) => i % 3 === 0)
    const inCache = events.filter((_, i) => i % 3 !== 1)
    const c = await connectFor(t, url)
    await putAll(c, ...onRelay)

    const input = join(tempDir(t), 'ndk.json')
    writeFileSync(input, JSON.stringify({ filter: { kinds: [1], authors: [author.pubkey] }, cache: inCache }))
    const script = join(repoRoot, 'test/fixtures/ndk/sync.mjs')
    const stdout = await new Promise<string>((resolve, reject) =>
      ownChild(
        execFile(process.execPath, [script, url, input], { cwd: repoRoot, timeout: 120_000 }, (err, out) =>
          err ? reject(err) : resolve(out),
        ),
      ),
    )
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as NdkResult
    const ids = (es: NostrEvent[]) => es.map(e => e.id).sort()
    const needed = onRelay.filter(e => !inCache.includes(e))
    t.ok(r.connected, 'NDK connects on Node 20')
    t.same(r.errors, [], 'the relay takes the session')
    t.same(r.need, ids(needed), 'need: the events only on the relay')
    t.same(r.have, ids(cacheOnly), 'have: the events only in the cache')
    t.same(r.fetched, ids(needed), 'it fetched exactly the needed events')
    // NDK writes fetched events to its cache more than once (its subscription, then sync itself): each is there.
    t.ok(
      ids(needed).every(id => r.saved.includes(id)),
      'and cached each of them',
    )
  },
)
