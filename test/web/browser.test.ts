// The market page in real headless Chromium (Debian's package, driven by puppeteer-core; .ci/run installs it), on a
// real relay: providers shown from the relay's events, provider text never run as markup, live updates, a job's
// row and page, the relay view by keyboard, and a reconnect after the relay restarts. Screenshots go to
// artifacts/screenshots (git-ignored).
import t from 'tap'
import { handlerInfo, heartbeat, jobRequest, jobResult, readJobRequest, review } from '../../client/market.js'
import { CHROMIUM, NO_CHROMIUM, openPage, text } from '../helpers/browser.js'
import { startCli } from '../helpers/cli.js'
import { attestation } from '../helpers/market.js'
import { connectFor, putAll } from '../helpers/client.js'
import { signer } from '../helpers/events.js'
import { tempDir } from '../helpers/relay.js'

const nip11Pubkey = async (base: string) =>
  ((await (await fetch(base, { headers: { Accept: 'application/nostr+json' } })).json()) as { self: string }).self

if (!CHROMIUM) t.plan(0, NO_CHROMIUM)
else await run(CHROMIUM)

async function run(executablePath: string) {
  // The relay as an operator runs it (the compiled CLI), so a restart is a new process on the same port and data.
  const dir = tempDir(t)
  let relay = await startCli(t, dir)
  const port = Number(new URL(relay.url).port)
  const base = `http://127.0.0.1:${port}`
  const relayPubkey = await nip11Pubkey(base)

  const customer = signer()
  let deliveredJob = ''
  const hostile = signer()
  const trap = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
  const friendly = signer()
  const c = await connectFor(t, relay.url)
  await putAll(
    c,
    hostile.sign(
      handlerInfo(
        'h',
        [5100],
        JSON.stringify({
          name: trap,
          about: '<b onmouseover="window.__pwned=3">about</b>',
          picture: 'javascript:alert(1)',
        }),
      ),
    ),
    hostile.sign(heartbeat('h', 1, new Map([[5100, 21]]))),
    friendly.sign(
      handlerInfo(
        'f',
        [5100, 5200],
        JSON.stringify({
          name: 'Friendly translator',
          skill: {
            features: ['translation'],
            params: { type: 'object', properties: { lang: { type: 'string', description: 'target language' } } },
          },
        }),
      ),
    ),
  )
  c.close()

  const { page, errors, shot } = await openPage(t, executablePath)
  const row = (pubkey: string) => `tr[data-pubkey="${pubkey}"]`

  await t.test('the providers view lists them, and provider text stays text', async t => {
    await page.goto(`${base}/#/providers`)
    await page.waitForSelector(row(hostile.pubkey), { timeout: 60_000 })
    await page.waitForSelector(row(friendly.pubkey), { timeout: 60_000 })
    t.equal(await text(page, `${row(hostile.pubkey)} .name`), trap, 'the name shows as the characters it is')
    t.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined, 'nothing ran')
    t.equal((await page.$$('tbody img[src="x"], tbody script, tbody b')).length, 0, 'no element came from the text')
    t.equal((await page.$$(`${row(hostile.pubkey)} img`)).length, 0, 'a javascript: picture is not shown')
    t.match(await text(page, row(hostile.pubkey)), '5100: 21 sats')
    t.match(await text(page, row(friendly.pubkey)), 'Friendly translator')
    await shot('providers')
  })

  await t.test('a filter is part of the URL, so the view can be shared', async t => {
    await page.goto(`${base}/#/providers?feature=translation`)
    await page.waitForFunction(n => document.querySelectorAll('tbody tr').length === n, { timeout: 60_000 }, 1)
    t.ok(await page.$(row(friendly.pubkey)), 'the feature filter')
    await page.goto(`${base}/#/providers?kind=5200`)
    await page.waitForFunction(n => document.querySelectorAll('tbody tr').length === n, { timeout: 60_000 }, 1)
    t.ok(await page.$(row(friendly.pubkey)))
    t.equal(await page.$(row(hostile.pubkey)), null)
  })

  await t.test('a provider announced while the page is open appears without a reload', async t => {
    await page.goto(`${base}/#/providers`)
    await page.waitForSelector(row(friendly.pubkey), { timeout: 60_000 })
    const late = signer()
    const c = await connectFor(t, relay.url)
    await putAll(c, late.sign(handlerInfo('l', [5300], JSON.stringify({ name: 'Late arrival' }))))
    await page.waitForSelector(row(late.pubkey), { timeout: 60_000 })
    t.match(await text(page, row(late.pubkey)), 'Late arrival')
  })

  await t.test('the relay view, reached with the keyboard, shows its key and rules', async t => {
    await page.focus('nav a[data-view="relay"]')
    await page.keyboard.press('Enter')
    await page.waitForFunction(() => location.hash === '#/relay', { timeout: 60_000 })
    await page.waitForSelector('table.facts', { timeout: 60_000 })
    t.match(await text(page, 'table.facts'), relayPubkey)
    // This relay runs --open: no whitelist and no rate limits, which the page says rather than leaving out.
    t.match(await text(page, 'table.facts'), 'Kinds acceptedevery kind')
    t.match(await text(page, 'table.facts'), 'Rate limitsnone')
    t.match(await text(page, 'table.facts'), /Disputes within\d+ (s|min|h|days) of delivery/)
    t.match(await text(page, 'main'), 'skill.md')
    await shot('relay')
  })

  await t.test('jobs: a delivered job appears live, and its page tells it in words', async t => {
    await page.goto(`${base}/#/jobs`)
    await page.waitForSelector('main .state', { timeout: 60_000 })
    const request = customer.sign(jobRequest({ kind: 5100, input: 'hello', bid: 21_000 }))
    deliveredJob = request.id
    const c = await connectFor(t, relay.url)
    // Open: the request alone (the ledger has no entry until the job changes), for a kind a provider serves.
    await putAll(c, request)
    const job = `a.job[data-job="${request.id}"]`
    await page.waitForSelector(`${job} .badge.open`, { timeout: 60_000 })
    t.match(await text(page, job), 'bid 21 sats')
    // Delivered: the relay's ledger entry takes the row over.
    await putAll(c, friendly.sign(jobResult(readJobRequest(request), 'done')))
    await page.waitForSelector(`${job} .badge.delivered`, { timeout: 60_000 })
    t.equal((await page.$$(job)).length, 1, 'one row for the job, not one for its request and one for its entry')
    const line = await text(page, job)
    t.match(line, 'delivered')
    t.match(line, 'bid 21 sats')
    t.match(line, 'Friendly translator', 'the provider by its name')
    await shot('jobs')
    await page.focus(job)
    await page.keyboard.press('Enter')
    await page.waitForSelector('ul.story', { timeout: 60_000 })
    const story = await text(page, 'ul.story')
    t.match(story, 'asked for a kind 5100 job, bidding 21 sats.')
    t.match(story, 'Friendly translator took it and delivered a result.')
    t.match(story, 'It is delivered now.')
    await shot('job')
  })

  await t.test('the totals count the delivered job', async t => {
    await page.goto(`${base}/#/totals`)
    await page.waitForSelector('.cards', { timeout: 60_000 })
    t.equal((await page.$$('figure.chart canvas')).length, 3, 'three charts drawn')
    const body = await text(page, 'main')
    t.match(body, '1Jobs')
    t.match(body, 'delivered1')
    t.match(body, '5100')
    await shot('totals')
  })

  await t.test('a provider’s page: its skill, its terms and its jobs', async t => {
    await page.goto(`${base}/#/providers`)
    await page.waitForSelector(`${row(friendly.pubkey)} a.name`, { timeout: 60_000 })
    await page.focus(`${row(friendly.pubkey)} a.name`)
    await page.keyboard.press('Enter')
    await page.waitForSelector('main h2', { timeout: 60_000 })
    const body = await text(page, 'main')
    t.match(body, 'Friendly translator')
    t.match(body, 'translation')
    t.match(body, 'target language')
    await page.waitForSelector('main .recent a.job', { timeout: 60_000 })
    t.match(await text(page, 'main .recent'), 'delivered', 'the job it delivered')
    // Its customer reviews it while the page is open: the review arrives on the page's own subscription.
    const c = await connectFor(t, relay.url)
    await putAll(
      c,
      customer.sign(review(deliveredJob, friendly.pubkey, 5, 5100, 'quick <b onclick="x()">and</b> good')),
    )
    await page.waitForSelector('main ul.reviews li', { timeout: 60_000 })
    t.match(await text(page, 'main ul.reviews'), '5/5')
    t.match(await text(page, 'main ul.reviews'), ': quick <b onclick="x()">and</b> good', 'the review as text')
    t.equal((await page.$$('main ul.reviews b')).length, 0)
    // Another key attests to it, also while the page is open.
    await putAll(c, attestation(hostile, friendly.pubkey, 4, 0.75))
    await page.waitForFunction(() => document.querySelector('main')!.textContent!.includes('0.75'), {
      timeout: 60_000,
    })
    t.match(await text(page, 'main'), /Attestations.*4\/50\.75nip90\.5100/s)
    await shot('provider')
    // The job's own page reads its result event and its reviews.
    await page.goto(`${base}/#/job/${deliveredJob}`)
    await page.waitForFunction(() => document.querySelector('main')!.textContent!.includes('kind 6100'), {
      timeout: 60_000,
    })
    t.match(await text(page, 'table.facts'), 'Resultkind 6100, 4 characters', 'the result’s kind and size')
    t.match(await text(page, 'main ul.reviews'), /rated Friendly translator 5\/5: quick/)
  })

  await t.test('when the relay restarts, the page says so and reconnects by itself', async t => {
    await page.goto(`${base}/#/providers`)
    await page.waitForSelector(row(friendly.pubkey), { timeout: 60_000 })
    relay.child.kill('SIGTERM')
    await relay.exited
    await page.waitForFunction(() => !document.getElementById('connection')!.hidden, { timeout: 60_000 })
    t.match(await text(page, '#connection'), 'Not connected')
    await shot('disconnected')
    // Chromium leaves the old process's keep-alive connections half closed, and the kernel keeps the port taken
    // until their FIN-WAIT-2 times out (about 60 s here; README, Operating): start again until it binds.
    const restarted = Date.now()
    for (;;) {
      try {
        relay = await startCli(t, dir, 90_000, port)
        break
      } catch (err) {
        if (!/already in use/.test(String(err)) || Date.now() - restarted > 150_000) throw err
      }
    }
    await page.waitForFunction(() => document.getElementById('connection')!.hidden, { timeout: 60_000 })
    const after = signer()
    const c = await connectFor(t, relay.url)
    await putAll(c, after.sign(handlerInfo('a', [5400], JSON.stringify({ name: 'After the restart' }))))
    await page.waitForSelector(row(after.pubkey), { timeout: 60_000 })
    t.match(await text(page, row(after.pubkey)), 'After the restart')
  })

  t.same(errors, [], 'no script error on the page')
}
