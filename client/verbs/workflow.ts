// Workflows (5117): a chain of job kinds the relay runs step by step, each step's result the next one's input.
import type { NostrEvent } from '../../nips/nip01.js'
import { fetchEvent, ledgerState, publishOrThrow, relayKeys, waitFor } from '../customer.js'
import { ClientError } from '../errors.js'
import { parsePubkey } from '../keys.js'
import { LEDGER, tagsOf, workflow } from '../market.js'
import type { Session } from './session.js'

/** A workflow as a customer writes it (the JSON of `agora workflow post FILE`, the MCP tool's arguments). */
export type WorkflowSpec = {
  readonly input: string
  readonly input_type?: string | undefined
  readonly bid_sats?: number | undefined
  readonly steps: readonly { kind: number; provider?: string | undefined; description?: string | undefined }[]
}

/** Publishes the workflow. */
export function postWorkflow(c: Session, spec: WorkflowSpec): Promise<NostrEvent> {
  const steps = spec.steps.map(s => ({ ...s, ...(s.provider ? { provider: parsePubkey(s.provider) } : {}) }))
  return publishOrThrow(
    c.pool,
    workflow({
      input: spec.input,
      ...(spec.input_type ? { inputType: spec.input_type } : {}),
      ...(spec.bid_sats ? { bid: spec.bid_sats * 1000 } : {}),
      steps,
    }),
    'workflow',
  )
}

/** Follows a workflow's ledger entry to its end; answers the last step's result (1 when it did not complete). */
export async function followWorkflow(c: Session, id: string): Promise<number> {
  const keys = await relayKeys(c.pool)
  if (!keys.length) throw new ClientError('this relay states no key (NIP-11 self): it runs no workflows')
  const end = await waitFor(
    c.pool,
    [{ kinds: [LEDGER], authors: keys, '#d': [id] }],
    e => {
      c.log(
        `workflow ${ledgerState(e)}: ${tagsOf(e, 'step')
          .map(s => `${s[1]}:${s[4]}`)
          .join(' ')}`,
      )
      return ['completed', 'failed', 'cancelled'].includes(ledgerState(e) ?? '') ? e : undefined
    },
    c.timeoutMs,
    `end of workflow ${id}`,
  )
  if (ledgerState(end) !== 'completed') return 1
  const last = tagsOf(end, 'step').at(-1)!
  c.out((await fetchEvent(c.pool, last[6]!, 'result')).content)
  return 0
}
