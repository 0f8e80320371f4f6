// The market page reads the newest `limit` of each thing and pages back with `until` (the "Older jobs" button), so a
// long history costs the relay one page at a time. A relay whose NIP-11 max_limit is 5 makes the pages small.
import t from 'tap'
import { handlerInfo, jobRequest } from '../../client/market.js'
import { CHROMIUM, NO_CHROMIUM, openPage, text } from '../helpers/browser.js'
import { connectFor, putAll } from '../helpers/client.js'
import { now, signer } from '../helpers/events.js'
import { startTestRelay } from '../helpers/relay.js'

if (!CHROMIUM) t.plan(0, NO_CHROMIUM)
else await run(CHROMIUM)

async function run(chromium: string) {
  await t.test('older jobs come a page at a time, until the relay has no more', async t => {
    const relay = await startTestRelay(t, { 'limits.max_limit': 5 })
    const provider = signer()
    const customer = signer()
    // Twelve open requests a second apart: pages of 5 (each `until` the oldest held, so its second is read again).
    const at = now() - 100
    const requests = Array.from({ length: 12 }, (_, i) =>
      customer.sign({ ...jobRequest({ kind: 5100, input: `job ${i}` }), created_at: at + i }),
    )
    const c = await connectFor(t, relay.url)
    await putAll(c, provider.sign(handlerInfo('p', [5100], JSON.stringify({ name: 'Pager' }))), ...requests)

    const { page, errors } = await openPage(t, chromium)
    await page.goto(`${relay.url.replace(/^ws:/, 'http:')}/#/jobs`)
    const listed = () => text(page, 'main p.state')
    await page.waitForFunction(
      () => document.querySelector('main p.state')?.textContent === '5 jobs, the latest change first',
      {
        timeout: 60_000,
      },
    )
    const shown = async () => await page.$$eval('a.job', as => as.map(a => a.getAttribute('data-job')))
    t.same(
      await shown(),
      requests
        .slice(-5)
        .reverse()
        .map(r => r.id),
      'the newest five, newest first',
    )

    await page.click('#older-jobs')
    await page.waitForFunction(
      () => document.querySelector('main p.state')?.textContent === '9 jobs, the latest change first',
      {
        timeout: 60_000,
      },
    )
    await page.click('#older-jobs')
    await page.waitForFunction(
      () => document.querySelector('main p.state')?.textContent === '12 jobs, the latest change first',
      {
        timeout: 60_000,
      },
    )
    // The list draws only what fits, so scroll to its end to see the oldest.
    await page.$eval('.viewport', v => (v.scrollTop = v.scrollHeight))
    await page.waitForSelector(`a.job[data-job="${requests[0]!.id}"]`, { timeout: 60_000 })
    await page.click('#older-jobs')
    await page.waitForFunction(() => document.querySelector('main')!.textContent!.includes('That is every job'), {
      timeout: 60_000,
    })
    t.equal(await listed(), '12 jobs, the latest change first', 'nothing older, nothing twice')
    t.same(errors, [], 'no script error on the page')
  })
}
