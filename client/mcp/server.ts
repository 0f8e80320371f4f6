// `agora mcp`: the market as MCP tools, so an AI agent (Claude Code, Cursor, any MCP client) posts and pays for jobs,
// or takes and delivers them, from its editor. Each tool runs one of the market's verbs (client/verbs/), the same
// code the CLI runs; what the verb answers becomes the tool's text, and a refusal a tool error naming its reason.
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import { fetchEvent } from '../customer.js'
import { ClientError } from '../errors.js'
import { parsePubkey } from '../keys.js'
import { HANDLER } from '../market.js'
import { fetchRelaySkill } from '../nip11.js'
import type { Pool } from '../pool.js'
import { refund, release } from '../verbs/escrow.js'
import { cancel, follow, pick, post, status } from '../verbs/jobs.js'
import { payJob } from '../verbs/lightning.js'
import { announce, claimEscrow, deliver, openJobs, quote } from '../verbs/provider.js'
import { connectPool, nwcOf, walletOf, type Session } from '../verbs/session.js'
import { listProviders, providerDetail, reportKey, reviewJob, trustKey } from '../verbs/social.js'
import { followWorkflow, postWorkflow } from '../verbs/workflow.js'

export type McpOptions = {
  readonly relays: readonly string[]
  readonly key?: string | undefined
  readonly wallet?: string | undefined
  readonly nwc?: string | undefined
  readonly mint?: string | undefined
  /** Where connection notes go (stderr: stdout carries the protocol). */
  readonly log: (line: string) => void
  readonly version: string
}

/**
 * MCP clients give up on a request after 60 s by default: a tool that waits stops before, and says how to wait
 * longer (`timeout_seconds`) when the client allows it.
 */
const DEFAULT_WAIT_S = 50
const WORKFLOW = 5117

const pubkey = z.string().describe('a public key, hex or npub')
const jobId = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'a job id is 64 hex characters')
  .describe('the job request’s event id')
const sats = (what: string) => z.number().int().min(1, `${what} is at least 1 sat`).max(2_100_000_000_000_000)
const jobKind = z
  .number()
  .int()
  .min(5000, 'a job kind is 5000-5999')
  .max(5999, 'a job kind is 5000-5999')
  .describe('the job kind (NIP-90 request kind, 5000-5999)')
const wait = z
  .number()
  .int()
  .min(1)
  .max(3600)
  .optional()
  .describe(`how long to wait, in seconds (default ${DEFAULT_WAIT_S}; keep it under your MCP client’s request timeout)`)

/** The server, its relays connected on the first tool that needs them (listing tools needs none). */
export function createMcpServer(o: McpOptions): { server: McpServer; close(): void } {
  const server = new McpServer(
    { name: 'agora', version: o.version },
    {
      instructions:
        'agora is a Nostr relay with a NIP-90 job market. As a customer: list_providers, post_job, wait_for_result, ' +
        'then pay_job (or release_escrow for an escrowed job), and review. As a provider: announce_provider, ' +
        'list_open_jobs, send_quote, deliver_result, claim_escrow. Read the relay’s rules in the agora://relay/skill.md resource.',
    },
  )
  let pool: Promise<Pool> | undefined
  const connected = () => {
    pool ??= connectPool(o.relays, o.key, o.log).catch(err => {
      pool = undefined // the next tool tries again: the relay may be up by then
      throw err
    })
    return pool
  }

  /** Runs a verb in a session whose answer and notes become the tool's text; a failure a tool error. */
  async function run(timeoutS: number | undefined, verb: (s: Session) => Promise<unknown>): Promise<CallToolResult> {
    const lines: string[] = []
    const notes: string[] = []
    const text = () => [...lines, ...(notes.length ? ['', 'notes:', ...notes.map(n => `- ${n}`)] : [])].join('\n')
    try {
      const s: Session = {
        pool: await connected(),
        log: line => void notes.push(line),
        out: line => void lines.push(line),
        timeoutMs: (timeoutS ?? DEFAULT_WAIT_S) * 1000,
        wallet: walletOf(o.wallet),
        nwc: nwcOf(o.nwc),
        lightning: o.nwc !== undefined,
        mint: o.mint,
      }
      const code = await verb(s)
      return { content: [{ type: 'text', text: text() || 'done' }], isError: typeof code === 'number' && code !== 0 }
    } catch (err) {
      if (!(err instanceof ClientError) && !(err instanceof Error)) throw err
      lines.unshift(err instanceof ClientError ? err.message : `error: ${err.message}`)
      return { content: [{ type: 'text', text: text() }], isError: true }
    }
  }
  const json = (s: Session, v: unknown) => s.out(JSON.stringify(v, null, 2))

  for (const [name, t] of Object.entries(tools)) {
    server.registerTool(name, { description: t.description, inputSchema: t.input }, args =>
      run(args['timeout_seconds'] as number | undefined, s => t.run(s, args, json)),
    )
  }

  server.registerResource(
    'relay-info',
    'agora://relay/info',
    {
      description: 'The relay’s NIP-11 document: its key, limits, PoW per kind, zap gate and market terms',
      mimeType: 'application/json',
    },
    async uri => {
      const p = await connected()
      const info = await p.info(p.relays[0]!.url)
      if (!info) throw new ClientError(`${p.relays[0]!.url} serves no NIP-11 document`)
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(info.doc, null, 2) }] }
    },
  )
  server.registerResource(
    'relay-skill',
    'agora://relay/skill.md',
    {
      description: 'The relay’s skill document: how to use this relay and its market, generated from its config',
      mimeType: 'text/markdown',
    },
    async uri => {
      const p = await connected()
      return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text: await fetchRelaySkill(p.relays[0]!.url) }] }
    },
  )
  server.registerResource(
    'provider-skill',
    new ResourceTemplate('agora://provider/{pubkey}/skill', { list: undefined }),
    {
      description: 'A provider’s skill descriptor: the content of its NIP-89 handler (31990)',
      mimeType: 'application/json',
    },
    async (uri, { pubkey: key }) => {
      const p = await connected()
      const [handler] = await p.query([{ kinds: [HANDLER], authors: [parsePubkey(String(key))] }])
      if (!handler) throw new ClientError(`provider ${String(key)} announces no handler (31990)`)
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: handler.content }] }
    },
  )
  return {
    server,
    close: () =>
      void pool?.then(
        p => p.close(),
        () => undefined,
      ),
  }
}

/** A tool: what an agent reads to choose it, its arguments, and the verb it runs. */
type Tool<S extends z.ZodRawShape> = {
  readonly description: string
  readonly input: S
  run(s: Session, args: z.infer<z.ZodObject<S>>, json: (s: Session, v: unknown) => void): Promise<unknown>
}
const tool = <S extends z.ZodRawShape>(t: Tool<S>) => t as unknown as Tool<z.ZodRawShape>

/** Every tool, in the order docs/agents.md lists them. */
export const tools: Record<string, Tool<z.ZodRawShape>> = {
  list_providers: tool({
    description: 'List the market’s providers, best rank first, with their kinds, price, online state and standing.',
    input: {
      kind: jobKind.optional(),
      feature: z.string().optional().describe('only providers whose skill lists this feature'),
      online: z.boolean().optional().describe('only providers online now'),
      min_rank: z.number().min(0).optional().describe('only providers ranked at least this high (the relay’s 30382)'),
    },
    run: async (s, a, json) =>
      json(s, await listProviders(s.pool, { kind: a.kind, feature: a.feature, online: a.online, minRank: a.min_rank })),
  }),
  get_provider: tool({
    description:
      'One provider in full: its skill descriptor (31990), prices (30333) and the relay’s standing of it (30382).',
    input: { pubkey },
    run: async (s, a, json) => json(s, await providerDetail(s.pool, parsePubkey(a.pubkey))),
  }),
  post_job: tool({
    description:
      'Post a job request; answers its id. Then call wait_for_result. With escrow, the quoted price is locked from the Cashu wallet when the provider quotes; sealed results are bought through the Lightning wallet.',
    input: {
      kind: jobKind,
      input: z.string().describe('the job’s input: text, a URL, or an event or job id (see input_type)'),
      input_type: z.enum(['text', 'url', 'event', 'job']).optional().describe('what the input is (default text)'),
      bid_sats: sats('a bid').optional().describe('the most you pay, in sats (needed for escrow and sealed jobs)'),
      providers: z.array(pubkey).max(100).optional().describe('ask only these providers (default: anyone)'),
      params: z.record(z.string(), z.string()).optional().describe('job parameters the provider’s skill names'),
      escrow: z.boolean().optional().describe('lock the price in Cashu escrow, the relay as arbiter'),
      sealed: z.boolean().optional().describe('pay-to-decrypt: the result is sealed until its key is paid for'),
      swarm: z.number().int().min(1).max(100).optional().describe('collect this many submissions, then pick_winner'),
      min_reputation: z.number().int().min(0).optional().describe('only providers with at least this reputation'),
      pay_gate: z
        .boolean()
        .optional()
        .describe('if the relay’s zap gate refuses the job, pay it from the Lightning wallet and post again'),
    },
    run: async (s, a) => {
      const request = await post(s, {
        kind: a.kind,
        input: a.input,
        ...(a.input_type ? { inputType: a.input_type } : {}),
        ...(a.bid_sats !== undefined ? { bid: a.bid_sats * 1000 } : {}),
        providers: (a.providers ?? []).map(parsePubkey),
        params: a.params ?? {},
        escrow: a.escrow === true,
        sealed: a.sealed === true,
        ...(a.min_reputation !== undefined ? { minReputation: a.min_reputation } : {}),
        ...(a.swarm !== undefined ? { swarm: a.swarm } : {}),
        payGate: a.pay_gate === true,
      })
      s.out(request.id)
    },
  }),
  post_workflow: tool({
    description:
      'Post a workflow: job kinds run one after another by the relay, each step’s result the next one’s input; answers its id.',
    input: {
      input: z.string().describe('the first step’s input'),
      input_type: z.enum(['text', 'url', 'event', 'job']).optional().describe('what the input is (default text)'),
      bid_sats: sats('a bid').optional().describe('the most you pay for each step, in sats'),
      steps: z
        .array(
          z.object({
            kind: jobKind,
            provider: pubkey.optional().describe('the step’s provider (default: anyone)'),
            description: z.string().optional().describe('what the step does'),
          }),
        )
        // The relay's own bounds (a workflow of one step is refused).
        .min(2, 'a workflow has 2 to 20 steps')
        .max(20, 'a workflow has 2 to 20 steps')
        .describe('the steps, in order (2 to 20)'),
    },
    run: async (s, a) => s.out((await postWorkflow(s, a)).id),
  }),
  job_status: tool({
    description:
      'A job’s or workflow’s state from the relay’s ledger (31118): state, provider, result, payments, escrow.',
    input: { job: jobId },
    run: (s, a) => status(s, a.job),
  }),
  wait_for_result: tool({
    description:
      'Wait for a posted job’s result and answer it (a workflow’s last result; a swarm’s submissions as JSON lines). Locks the escrow of an escrowed job when quoted, buys a sealed result’s key.',
    input: {
      job: jobId,
      pay: z.boolean().optional().describe('pay the result at once (a zap from the Lightning wallet, or nutzap)'),
      nutzap: z.boolean().optional().describe('pay by nutzap from the Cashu wallet instead of a zap'),
      timeout_seconds: wait,
    },
    run: async (s, a) => {
      const request = await fetchEvent(s.pool, a.job, 'job')
      if (request.kind === WORKFLOW) return followWorkflow(s, a.job)
      return follow(s, request, { pay: a.pay, nutzap: a.nutzap })
    },
  }),
  pay_job: tool({
    description:
      'Pay a delivered job’s result: a zap through the Lightning wallet (NWC), or a nutzap from the Cashu wallet.',
    input: { job: jobId, nutzap: z.boolean().optional().describe('pay by nutzap from the Cashu wallet') },
    run: (s, a) => payJob(s, a.job, { nutzap: a.nutzap }),
  }),
  release_escrow: tool({
    description: 'Release an escrowed job’s payment to its provider: co-sign the provider’s claim (waited for).',
    input: { job: jobId, timeout_seconds: wait },
    run: (s, a) => release(s, a.job),
  }),
  dispute_job: tool({
    description:
      'Dispute an escrowed job’s result within the dispute window, asking the relay to refund; with wait, redeem its ruling.',
    input: {
      job: jobId,
      reason: z.string().optional().describe('why, for the relay’s operator'),
      wait: z.boolean().optional().describe('wait for the ruling and redeem a refund into the wallet'),
      timeout_seconds: wait,
    },
    run: (s, a) => refund(s, a.job, 'dispute', { reason: a.reason, wait: a.wait }),
  }),
  cancel_job: tool({
    description: 'Cancel a job not delivered yet: refund its escrow, or delete the request.',
    input: { job: jobId, reason: z.string().optional().describe('why') },
    run: (s, a) => cancel(s, a.job, a.reason),
  }),
  pick_winner: tool({
    description: 'Pick a swarm’s winner: the provider whose submission is paid.',
    input: {
      swarm: jobId.describe('the swarm request’s id'),
      provider: pubkey.describe('the winning provider'),
      result: jobId.optional().describe('which of its results (default: its submission)'),
    },
    run: (s, a) => pick(s, a.swarm, parsePubkey(a.provider), a.result),
  }),
  review: tool({
    description:
      'Review the other party of a delivered job (1-5 stars); counts toward reputation once the job is paid.',
    input: {
      job: jobId,
      rating: z.number().int().min(1, 'a rating is 1-5').max(5, 'a rating is 1-5').describe('1-5'),
      text: z.string().optional().describe('what you say'),
    },
    run: async (s, a) => s.out((await reviewJob(s.pool, a.job, a.rating, a.text)).id),
  }),
  trust: tool({
    description: 'Declare trust in a provider’s key (your 30382 assertion): the relay’s standing flows through it.',
    input: { pubkey },
    run: async (s, a) => s.out((await trustKey(s.pool, parsePubkey(a.pubkey))).id),
  }),
  report: tool({
    description: 'Report a key (NIP-56 1984); counts toward flagging when you were a customer of its delivered jobs.',
    input: {
      pubkey,
      type: z
        .string()
        .optional()
        .describe('NIP-56 report type: spam, impersonation, illegal, malware, other… (default other)'),
      text: z.string().optional().describe('what happened'),
    },
    run: async (s, a) => s.out((await reportKey(s.pool, parsePubkey(a.pubkey), a.type, a.text)).id),
  }),
  wallet_balance: tool({
    description: 'The Cashu wallet: sats per mint, the total, and its P2PK key.',
    input: {},
    run: async (s, _a, json) => {
      const w = await s.wallet()
      json(s, { balance: w.balance(), total: w.total(), cashu_pubkey: w.cashuPubkey() })
    },
  }),
  wallet_mint_invoice: tool({
    description: 'A Lightning invoice that mints sats into the Cashu wallet: pay it, then call wallet_mint_complete.',
    input: { mint: z.string().url().describe('the Cashu mint’s URL'), sats: sats('minting') },
    run: async (s, a, json) =>
      json(s, { ...(await (await s.wallet()).mintQuote(a.mint, a.sats)), mint: a.mint, sats: a.sats }),
  }),
  wallet_mint_complete: tool({
    description: 'Wait until a wallet_mint_invoice invoice is paid, and mint its sats into the Cashu wallet.',
    input: {
      mint: z.string().url().describe('the Cashu mint’s URL'),
      quote: z.string().min(1).describe('the quote id wallet_mint_invoice answered'),
      sats: sats('minting'),
      timeout_seconds: wait,
    },
    run: async (s, a) => {
      const w = await s.wallet()
      const got = await w.waitMinted(a.mint, a.quote, a.sats, { timeoutMs: s.timeoutMs, pollMs: 1000 })
      s.out(`minted ${got} sats; the wallet holds ${w.total()} sats`)
    },
  }),
  wallet_receive: tool({
    description: 'Receive a Cashu token (cashuA/cashuB) into the wallet.',
    input: { token: z.string().regex(/^cashu[AB]/, 'a Cashu token starts with cashuA or cashuB') },
    run: async (s, a) => s.out(`received ${await (await s.wallet()).receive(a.token)} sats`),
  }),
  announce_provider: tool({
    description:
      'Announce yourself as a provider: handler (31990), heartbeat with price (30333) and, with mints, the Cashu key customers lock escrow to (10019).',
    input: {
      kinds: z.array(jobKind).min(1).max(100).describe('the job kinds you serve'),
      name: z.string().min(1).describe('your name'),
      about: z.string().describe('what you do'),
      price_sats: z.number().int().min(0).describe('your price per job, in sats'),
      mints: z.array(z.string().url()).optional().describe('Cashu mints you take escrow and nutzaps at'),
      lud16: z.string().optional().describe('your lightning address, for zaps'),
      features: z.array(z.string()).optional().describe('features your skill offers (customers filter by them)'),
    },
    run: async (s, a) => {
      const ids = await announce(s, {
        kinds: a.kinds,
        name: a.name,
        about: a.about,
        priceSats: a.price_sats,
        mints: a.mints ?? [],
        lud16: a.lud16,
        features: a.features,
      })
      s.out(ids.join('\n'))
    },
  }),
  list_open_jobs: tool({
    description: 'Open job requests for your kinds that you may take (anyone’s, or addressed to you), newest first.',
    input: {
      kinds: z.array(jobKind).min(1).max(100).optional().describe('job kinds (default: those your handler announces)'),
      since_seconds: z.number().int().min(1).max(31_536_000).optional().describe('how far back (default 86400)'),
      limit: z.number().int().min(1).max(500).optional().describe('at most this many (default 50)'),
    },
    run: async (s, a, json) => {
      let kinds = a.kinds
      if (!kinds) {
        const [h] = await s.pool.query([{ kinds: [HANDLER], authors: [s.pool.signer.pubkey] }])
        kinds = h?.tags.filter(t => t[0] === 'k').map(t => Number(t[1]))
        if (!kinds?.length) throw new ClientError('pass kinds, or call announce_provider first')
      }
      json(s, await openJobs(s, kinds, a.since_seconds ?? 86_400, a.limit))
    },
  }),
  send_quote: tool({
    description: 'Quote your price for a job (7000 payment-required): an escrowed job’s customer then locks it.',
    input: { job: jobId, sats: sats('a quote'), message: z.string().optional().describe('a note to the customer') },
    run: async (s, a) => s.out((await quote(s, a.job, a.sats, a.message)).id),
  }),
  deliver_result: tool({
    description: 'Deliver a job’s result (request kind + 1000); for an escrowed job, then call claim_escrow.',
    input: {
      job: jobId,
      content: z.string().describe('the result'),
      sats: sats('a price').optional().describe('what you ask for it, in sats (at most the bid)'),
    },
    run: async (s, a) => s.out((await deliver(s, a.job, a.content, a.sats)).id),
  }),
  claim_escrow: tool({
    description:
      'Claim a delivered job’s escrow, wait for the customer’s release (or the relay’s ruling) and redeem it into the Cashu wallet; call again to keep waiting.',
    input: { job: jobId, timeout_seconds: wait },
    run: (s, a) => claimEscrow(s, a.job),
  }),
}
