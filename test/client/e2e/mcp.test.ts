// `agora mcp` driven as an AI agent's client drives it: the SDK's own MCP client over stdio, against a market relay,
// the fixture mint and `agora agent`. A whole escrowed job through tools only; refusals as tool errors; a provider
// run through the provider tools; the resources.
import t, { type Test } from 'tap'
import { join } from 'node:path'
import { keyFile, startAgentCli } from '../../helpers/agents.js'
import { connectFor, queryIds } from '../../helpers/client.js'
import { ledgerWhen, startMarket, tag } from '../../helpers/market.js'
import { startMcp, type McpClient } from '../../helpers/mcp.js'
import { startTestRelay } from '../../helpers/relay.js'
import { sleep } from '../../helpers/wait.js'
import { startFixtureMint } from '../../fixtures/mint/index.js'

const PRICE = 21
const FUNDS = 50

/** A market whose escrow windows are short, and the fixture mint. */
async function escrowMarket(t: Test) {
  const m = await startMarket(t, {
    'market.job_ttl': 120,
    'market.dispute_window': 600,
    'market.escrow_margin': 5,
    'market.reconcile_interval': 1,
  })
  const mint = await startFixtureMint()
  t.teardown(mint.close)
  return { m, mint }
}

/** `agora mcp` for a fresh key with a wallet file beside it. */
async function mcpFor(t: Test, relay: string, extra: string[] = []) {
  const me = keyFile(t)
  const wallet = join(me.dir, 'wallet.json')
  const mcp = await startMcp(t, ['--relay', relay, '--key', me.file, '--wallet', wallet, ...extra])
  return { mcp, me, wallet }
}

/** Calls a tool that must succeed; its text. */
async function ok(t: Test, mcp: McpClient, name: string, args = {}, ms?: number) {
  const r = await mcp.call(name, args, ms)
  t.equal(r.isError, false, `${name} succeeded: ${r.text}`)
  return r.text
}

/** Mints `sats` into the MCP server's wallet through its tools (the fixture mint marks invoices paid). */
async function fund(t: Test, mcp: McpClient, mint: string, sats: number) {
  const invoice = JSON.parse(await ok(t, mcp, 'wallet_mint_invoice', { mint, sats })) as {
    quote: string
    bolt11: string
  }
  t.match(invoice.bolt11, /^lnbc/, 'the invoice is a bolt11')
  t.match(await ok(t, mcp, 'wallet_mint_complete', { mint, quote: invoice.quote, sats }), `minted ${sats} sats`)
}

const idOf = (text: string) => {
  const m = /^[0-9a-f]{64}$/m.exec(text)
  if (!m) throw new Error(`no event id in: ${text}`)
  return m[0]
}

t.test('a whole escrowed job through MCP tools only: post, an agent delivers, release, review; paid', async t => {
  const { m, mint } = await escrowMarket(t)
  const agent = await startAgentCli(
    t,
    [m.url],
    ['--kind', '5100', '--processor', 'exec:tr a-z A-Z', '--price', String(PRICE), '--mint', mint.url],
    {},
  )
  const { mcp } = await mcpFor(t, m.url)

  const { tools } = await mcp.client.listTools()
  const names = tools.map(x => x.name)
  for (const name of ['list_providers', 'post_job', 'wait_for_result', 'release_escrow', 'review', 'claim_escrow'])
    t.ok(names.includes(name), `the server lists ${name}`)
  t.ok(
    tools.every(x => (x.description ?? '').length > 20 && x.inputSchema.type === 'object'),
    'every tool has a description and an object schema',
  )

  await fund(t, mcp, mint.url, FUNDS)
  const providers = JSON.parse(await ok(t, mcp, 'list_providers', { kind: 5100 })) as { pubkey: string }[]
  t.same(
    providers.map(p => p.pubkey),
    [agent.pubkey],
    'the agent is listed for kind 5100',
  )
  const job = idOf(await ok(t, mcp, 'post_job', { kind: 5100, input: 'pay on release', bid_sats: 30, escrow: true }))
  const result = await ok(t, mcp, 'wait_for_result', { job, timeout_seconds: 90 }, 120_000)
  t.match(result, /^PAY ON RELEASE\n/, 'the result comes back as the tool’s answer')
  t.match(result, new RegExp(`locked ${PRICE} sats for [0-9a-f]{8} at `), 'the quoted price was locked in escrow')
  t.match(JSON.parse(await ok(t, mcp, 'wallet_balance')), { total: FUNDS - PRICE }, 'the locked sats left the wallet')
  t.match(await ok(t, mcp, 'release_escrow', { job, timeout_seconds: 60 }, 90_000), /^[0-9a-f]{64}$/m)
  await agent.waitForLine(
    new RegExp(`job ${job.slice(0, 8)}: redeemed ${PRICE} sats from the escrow \\(release\\)`),
    0,
    60_000,
  )
  const settled = await ledgerWhen(m, job, 'settled', { name: 'escrow_state' })
  t.equal(tag(settled, 'state'), 'paid', 'the ledger records the job paid')
  t.equal(tag(settled, 'paid'), String(PRICE * 1000), 'with the price')
  const status = JSON.parse(await ok(t, mcp, 'job_status', { job })) as Record<string, string>
  t.equal(status['state'], 'paid', 'job_status reads the ledger')
  t.equal(status['provider'], agent.pubkey, 'naming the agent')

  const reviewed = idOf(await ok(t, mcp, 'review', { job, rating: 5, text: 'fast and right' }))
  t.same(await queryIds(m.c, { kinds: [31117], '#d': [job] }), [reviewed], 'the review is stored')
})

t.test('a relay refusal is a tool error naming its prefix, and stores nothing', async t => {
  const r = await startTestRelay(t, {
    'policies.open': false,
    'policies.kind_whitelist.kinds': ['5100', '6100', '7000'],
  })
  const { mcp, me } = await mcpFor(t, r.url)
  const refused = await mcp.call('post_job', { kind: 5200, input: 'not here' })
  t.equal(refused.isError, true, 'a tool error')
  t.match(refused.text, /^job request \(kind 5200\) refused: ws:\/\/\S+: blocked: kind 5200 is not accepted here/)
  t.same(await queryIds(await connectFor(t, r.url), { authors: [me.pubkey] }), [], 'nothing of this key was stored')
})

t.test('a bad argument is refused by the schema with a readable message, before anything is sent', async t => {
  const r = await startTestRelay(t)
  const { mcp, me } = await mcpFor(t, r.url)
  const kind = await mcp.call('post_job', { kind: 42, input: 'x' })
  t.equal(kind.isError, true, 'a tool error')
  t.match(kind.text, /Input validation error: .*post_job: a job kind is 5000-5999 at kind/)
  const missing = await mcp.call('review', { job: 'abc', rating: 9 })
  t.equal(missing.isError, true, 'a tool error')
  t.match(missing.text, /a job id is 64 hex characters at job/, 'names the bad job id')
  t.match(missing.text, /a rating is 1-5 at rating/, 'and the bad rating')
  const oneStep = await mcp.call('post_workflow', { input: 'x', steps: [{ kind: 5100 }] })
  t.equal(oneStep.isError, true, 'a one-step workflow is a tool error')
  t.match(oneStep.text, /a workflow has 2 to 20 steps at steps/, 'with the relay’s bounds')
  const unknown = await mcp.call('post_job', { kind: 5100 })
  t.match(unknown.text, /at input/, 'a missing argument is named')
  t.same(await queryIds(await connectFor(t, r.url), { authors: [me.pubkey] }), [], 'nothing was published')
})

t.test('a provider driven through the provider tools: announce, find, quote, deliver, claim, redeem', async t => {
  const { m, mint } = await escrowMarket(t)
  const provider = await mcpFor(t, m.url)
  const customer = await mcpFor(t, m.url)
  await fund(t, customer.mcp, mint.url, FUNDS)

  const announced = await ok(t, provider.mcp, 'announce_provider', {
    kinds: [5100],
    name: 'hand-run',
    about: 'uppercases text, by hand',
    price_sats: PRICE,
    mints: [mint.url],
    features: ['uppercase'],
  })
  t.equal(announced.split('\n').length, 3, 'handler, heartbeat and nutzap info published')
  const listed = JSON.parse(await ok(t, customer.mcp, 'list_providers', { feature: 'uppercase' })) as {
    pubkey: string
    name: string
  }[]
  t.match(listed, [{ pubkey: provider.me.pubkey, name: 'hand-run' }], 'the customer finds it by feature')
  const skill = await customer.mcp.client.readResource({ uri: `agora://provider/${provider.me.pubkey}/skill` })
  t.match(JSON.parse((skill.contents[0] as { text: string }).text), {
    name: 'hand-run',
    skill: { features: ['uppercase'] },
  })

  const job = idOf(await ok(t, customer.mcp, 'post_job', { kind: 5100, input: 'by hand', bid_sats: 30, escrow: true }))
  const open = JSON.parse(await ok(t, provider.mcp, 'list_open_jobs')) as { id: string; escrow: boolean }[]
  t.match(open, [{ id: job, escrow: true, locked_to_me: false }], 'the provider sees the open escrowed job')
  const overBid = await provider.mcp.call('send_quote', { job, sats: 31 })
  t.equal(overBid.isError, true, 'a quote over the bid is refused')
  t.match(overBid.text, /over the job's bid of 30000 msats/)
  await ok(t, provider.mcp, 'send_quote', { job, sats: PRICE })
  // The customer's first wait locks the quoted price, then ends without a result.
  const first = await customer.mcp.call('wait_for_result', { job, timeout_seconds: 5 })
  t.equal(first.isError, true, 'no result within the wait is a tool error')
  t.match(first.text, new RegExp(`^no result for job ${job} within 5 s`), 'saying so')
  let locked: { locked_to_me: boolean }[] = []
  const deadline = Date.now() + 60_000
  while (!locked[0]?.locked_to_me) {
    if (Date.now() > deadline) throw new Error('the customer never locked the escrow')
    locked = JSON.parse((await provider.mcp.call('list_open_jobs', { kinds: [5100] })).text)
    await sleep(200)
  }
  t.pass('the provider sees the job locked to it')
  // Waiting again sees the stored quote again: it must not lock a second time.
  const waiting = customer.mcp.call('wait_for_result', { job, timeout_seconds: 90 }, 120_000)
  await ok(t, provider.mcp, 'deliver_result', { job, content: 'BY HAND' })
  const result = await waiting
  t.equal(result.isError, false, result.text)
  t.match(result.text, /^BY HAND\n/, 'the customer gets the result')
  const early = await ok(t, provider.mcp, 'claim_escrow', { job, timeout_seconds: 1 })
  t.match(early, /claimed; neither the customer's release nor the relay's ruling came yet/)
  await ok(t, customer.mcp, 'release_escrow', { job, timeout_seconds: 60 }, 90_000)
  t.match(
    await ok(t, provider.mcp, 'claim_escrow', { job, timeout_seconds: 60 }, 90_000),
    `job ${job}: redeemed ${PRICE} sats from the escrow (release)`,
  )
  t.match(
    JSON.parse(await ok(t, provider.mcp, 'wallet_balance')),
    { total: PRICE },
    'the provider’s wallet holds the price',
  )
  const settled = await ledgerWhen(m, job, 'settled', { name: 'escrow_state' })
  t.equal(tag(settled, 'state'), 'paid', 'the ledger records the job paid')
  t.equal(tag(settled, 'provider'), provider.me.pubkey, 'to the provider')
  t.same(JSON.parse(await ok(t, provider.mcp, 'list_open_jobs')), [], 'the job is no longer open')
  t.equal((await queryIds(m.c, { kinds: [7117], authors: [customer.me.pubkey] })).length, 1, 'one lock, not two')
  t.match(
    JSON.parse(await ok(t, customer.mcp, 'wallet_balance')),
    { total: FUNDS - PRICE },
    'the customer paid the price once',
  )
})

t.test('resources: the relay’s NIP-11 and skill documents, a provider’s skill', async t => {
  const m = await startMarket(t)
  const { mcp } = await mcpFor(t, m.url)
  const { resources } = await mcp.client.listResources()
  t.match(
    resources.map(r => r.uri),
    ['agora://relay/info', 'agora://relay/skill.md'],
    'the relay’s documents are listed',
  )
  const info = await mcp.client.readResource({ uri: 'agora://relay/info' })
  t.match(JSON.parse((info.contents[0] as { text: string }).text), { pubkey: m.relay.pubkey, software: 'agora' })
  const skill = await mcp.client.readResource({ uri: 'agora://relay/skill.md' })
  const text = (skill.contents[0] as { text: string }).text
  t.equal(text, await (await fetch(`${m.url.replace('ws', 'http')}/skill.md`)).text(), 'the relay’s /skill.md')
  t.match(text, m.relay.pubkey, 'naming the relay’s key')
  const missing = await mcp.client.readResource({ uri: `agora://provider/${'ab'.repeat(32)}/skill` }).catch(e => e)
  t.match(String(missing), /announces no handler \(31990\)/, 'a provider with no handler is a readable error')
})

t.test('configured by environment; a relay that is down is a tool error, and the server keeps serving', async t => {
  const m = await startMarket(t)
  const me = keyFile(t)
  const byEnv = await startMcp(t, [], { AGORA_CLIENT_RELAY: m.url, AGORA_CLIENT_KEY: me.file })
  const info = await byEnv.client.readResource({ uri: 'agora://relay/info' })
  t.match(JSON.parse((info.contents[0] as { text: string }).text), { pubkey: m.relay.pubkey }, 'AGORA_CLIENT_RELAY')
  await ok(t, byEnv, 'trust', { pubkey: 'ab'.repeat(32) })
  t.equal((await queryIds(m.c, { kinds: [30382], authors: [me.pubkey] })).length, 1, 'signed with AGORA_CLIENT_KEY')

  const down = await startMcp(t, ['--relay', 'ws://127.0.0.1:1', '--key', keyFile(t).file])
  for (const attempt of [1, 2]) {
    const r = await down.call('job_status', { job: 'ab'.repeat(32) })
    t.equal(r.isError, true, `attempt ${attempt}: a tool error`)
    t.match(r.text, /ws:\/\/127\.0\.0\.1:1/, `attempt ${attempt}: it names the relay it could not reach`)
  }
  t.ok((await down.client.listTools()).tools.length > 0, 'the server still answers')
})
