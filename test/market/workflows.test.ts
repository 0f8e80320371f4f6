// Workflows (market/workflows.ts): how a kind-5117 reads in its two forms (AIP-0004 tags, the seed's JSON content),
// every rule that refuses one, how the bid is split across the steps, and the job request published for a step.
import t from 'tap'
import { readWorkflow, stepRequest, WORKFLOW, type Workflow } from '../../market/workflows.js'
import { isRejection, type NostrEvent } from '../../nips/nip01.js'
import { readJobRequest } from '../../nips/nip90.js'
import { signer } from '../helpers/events.js'

const customer = signer()
const relay = signer()
const [A, B] = [signer().pubkey, signer().pubkey]
const C = customer.pubkey
const RESULT = 'cd'.repeat(32)
const NOW = 1_700_000_000

/** A 5117 in the tags form (content given or ''). */
const tagged = (tags: string[][], content = '') => customer.sign({ kind: WORKFLOW, tags, content })
/** A 5117 in the JSON form: no step tags, the body as its content. */
const json = (body: unknown, tags: string[][] = []) =>
  customer.sign({ kind: WORKFLOW, tags, content: JSON.stringify(body) })
/** Step tags for indexes 0..n-1 of kind 5050, unpinned. */
const steps = (n: number) => Array.from({ length: n }, (_, i) => ['step', String(i), '5050', '', ''])
const invalid = (reason: string) => ({ prefix: 'invalid', reason: `workflow: ${reason}` })

/** A workflow that must read. */
function read(e: NostrEvent): Workflow {
  const w = readWorkflow(e)
  if (isRejection(w)) throw new Error(w.reason)
  return w
}

// One pipeline, written in both forms: translate (pinned to A, described), summarize, then speak.
const pipelineTags = [
  ['i', 'bonjour le monde', 'text'],
  // Out of order on purpose: the steps come back sorted by index.
  ['step', '2', '5250', '', ''],
  ['step', '0', '5002', A, 'translate to English'],
  ['step', '1', '5001', '', 'summarize'],
  ['bid', '10000'],
]
const pipelineJson = {
  input: 'bonjour le monde',
  steps: [
    { kind: 5002, provider: A, description: 'translate to English' },
    { kind: 5001, description: 'summarize' },
    { kind: 5250 },
  ],
  bid_sats: 10,
}
const pipelineSteps = [
  { index: 0, kind: 5002, provider: A, description: 'translate to English', bidMsats: 3333 },
  { index: 1, kind: 5001, provider: undefined, description: 'summarize', bidMsats: 3333 },
  { index: 2, kind: 5250, provider: undefined, description: '', bidMsats: 3334 },
]

t.test('the tags form reads: input, steps sorted by index, pinned provider, the bid split per step', async t => {
  const e = tagged(pipelineTags)
  t.strictSame(
    readWorkflow(e),
    {
      id: e.id,
      customer: C,
      input: { value: 'bonjour le monde', type: 'text' },
      steps: pipelineSteps,
      bidMsats: 10000,
    },
    'every field is read, and the unsorted step tags come back in index order',
  )
  const url = read(tagged([['i', 'https://example.com/a.mp3', 'url'], ...steps(2)]))
  t.strictSame(url.input, { value: 'https://example.com/a.mp3', type: 'url' }, "the i tag's type is kept")
  t.strictSame(url.bidMsats, undefined, 'no bid tag: no total')
  t.strictSame(
    url.steps.map(s => s.bidMsats),
    [undefined, undefined],
    'no bid tag: no step has a share',
  )
  t.strictSame(url.steps[0]!.provider, undefined, 'an empty provider field pins nobody')
})

t.test('the input type defaults to text', async t => {
  t.strictSame(read(tagged([['i', 'hi'], ...steps(2)])).input, { value: 'hi', type: 'text' }, 'no type: text')
  t.strictSame(read(tagged([['i', 'hi', ''], ...steps(2)])).input, { value: 'hi', type: 'text' }, 'empty type: text')
})

t.test('a step tag may leave out its provider and description', async t => {
  const w = read(
    tagged([
      ['i', 'hi'],
      ['step', '0', '5050'],
      ['step', '1', '5100', B],
    ]),
  )
  t.strictSame(
    w.steps,
    [
      { index: 0, kind: 5050, provider: undefined, description: '', bidMsats: undefined },
      { index: 1, kind: 5100, provider: B, description: '', bidMsats: undefined },
    ],
    'a missing provider pins nobody, a missing description is empty',
  )
})

t.test('the JSON form reads to the same workflow as the tags form', async t => {
  const fromTags = read(tagged(pipelineTags))
  const e = json(pipelineJson)
  const fromJson = read(e)
  t.equal(fromJson.id, e.id, "the JSON form's id is its event's")
  t.equal(fromJson.customer, C, "the JSON form's customer is its event's pubkey")
  t.strictSame({ ...fromJson, id: '' }, { ...fromTags, id: '' }, 'both forms give the same input, steps and bid')
  t.strictSame(fromJson.steps, pipelineSteps, 'steps are indexed in array order, bid_sats × 1000 split per step')
  t.equal(fromJson.input.type, 'text', "the JSON form's input is text")
})

t.test('the JSON form: null means absent, extra keys are ignored', async t => {
  const w = read(
    json({
      input: 'hi',
      steps: [{ kind: 5050, provider: null, description: null, extra: 1 }, { kind: 5051 }],
      bid_sats: null,
      note: 'ignored',
    }),
  )
  t.strictSame(
    w.steps,
    [
      { index: 0, kind: 5050, provider: undefined, description: '', bidMsats: undefined },
      { index: 1, kind: 5051, provider: undefined, description: '', bidMsats: undefined },
    ],
    'null provider pins nobody, null description is empty',
  )
  t.equal(w.bidMsats, undefined, 'null bid_sats: no bid')
  const empty = read(json({ input: 'hi', steps: [{ kind: 5050, provider: '' }, { kind: 5050 }] }))
  t.equal(empty.steps[0]!.provider, undefined, 'an empty provider pins nobody')
})

t.test('step tags win over the content; the JSON form ignores tags', async t => {
  const other = JSON.stringify({ input: 'other', steps: [{ kind: 5001 }, { kind: 5002 }, { kind: 5003 }] })
  const w = read(tagged([['i', 'from tags'], ...steps(2)], other))
  t.equal(w.input.value, 'from tags', 'with step tags, the input is the i tag')
  t.equal(w.steps.length, 2, 'with step tags, the steps are the tags')
  t.ok(!isRejection(readWorkflow(tagged([['i', 'x'], ...steps(2)], 'not json'))), 'with step tags, content is free')
  const j = read(
    json({ input: 'from content', steps: [{ kind: 5001 }, { kind: 5002 }] }, [
      ['i', 'from a tag'],
      ['bid', '5000'],
    ]),
  )
  t.equal(j.input.value, 'from content', 'in the JSON form, an i tag is not the input')
  t.equal(j.bidMsats, undefined, 'in the JSON form, a bid tag is not the bid')
})

t.test('the bid is split floor(total / N) per step, the remainder to the last, adding up to the total', async t => {
  for (const n of [2, 3, 7, 20])
    for (const total of [0, 1, 2, 19, 10_000, 123_456_789, 999_999_999_999_999]) {
      const shares = read(tagged([['i', 'x'], ...steps(n), ['bid', String(total)]])).steps.map(s => s.bidMsats!)
      const each = Math.floor(total / n)
      t.equal(
        shares.reduce((a, b) => a + b, 0),
        total,
        `${n} steps, ${total} msats: the shares add up to the total`,
      )
      t.strictSame(shares.slice(0, -1), Array(n - 1).fill(each), `${n} steps, ${total} msats: each gets floor(total/N)`)
      t.equal(shares[n - 1], total - each * (n - 1), `${n} steps, ${total} msats: the last gets the remainder too`)
    }
  const w = read(json({ input: 'x', steps: [{ kind: 5050 }, { kind: 5050 }, { kind: 5050 }], bid_sats: 1 }))
  t.strictSame(
    w.steps.map(s => s.bidMsats),
    [333, 333, 334],
    'JSON form: 1 sat over 3 steps is 333 + 333 + 334 msats',
  )
  t.equal(w.bidMsats, 1000, 'JSON form: the total is bid_sats × 1000')
})

t.test('the caps: 20 steps, 15 digits of msats, 999999999999 sats', async t => {
  t.equal(read(tagged([['i', 'x'], ...steps(20)])).steps.length, 20, 'tags: 20 steps read')
  const twenty = Array.from({ length: 20 }, () => ({ kind: 5050 }))
  t.equal(read(json({ input: 'x', steps: twenty })).steps.length, 20, 'JSON: 20 steps read')
  t.strictSame(
    readWorkflow(tagged([['i', 'x'], ...steps(21)])),
    invalid('at most 20 steps (got 21)'),
    'tags: 21 steps refused',
  )
  t.strictSame(
    readWorkflow(json({ input: 'x', steps: [...twenty, { kind: 5050 }] })),
    invalid('at most 20 steps (got 21)'),
    'JSON: 21 steps refused',
  )
  const big = '999999999999999'
  t.equal(read(tagged([['i', 'x'], ...steps(2), ['bid', big]])).bidMsats, Number(big), 'a 15-digit bid reads')
  t.equal(
    read(json({ input: 'x', steps: twenty.slice(0, 2), bid_sats: 999_999_999_999 })).bidMsats,
    999_999_999_999_000,
    'bid_sats 999999999999 reads',
  )
  t.strictSame(
    readWorkflow(json({ input: 'x', steps: twenty.slice(0, 2), bid_sats: 1_000_000_000_000 })),
    invalid('bid_sats must be at most 999999999999'),
    'bid_sats of 13 digits refused: its msats would pass 15 digits',
  )
})

t.test('the tags form: each rule refuses with its reason', async t => {
  const i = ['i', 'x']
  const gaps = (n: number, why: string) => `step indexes must run 0 to ${n - 1} without gaps (${why})`
  const notDvm = (step: number, kind: string) =>
    `step ${step} kind ${kind} is not a DVM job kind (5000-5999, not 5117 or 5118)`
  const cases: [string, string[][], string][] = [
    ['no i tag', steps(2), 'needs one i tag with the initial input'],
    ['two i tags', [i, ['i', 'y'], ...steps(2)], 'needs one i tag with the initial input'],
    ['an empty i tag', [['i', ''], ...steps(2)], 'needs one i tag with the initial input'],
    ['an i tag without a value', [['i'], ...steps(2)], 'needs one i tag with the initial input'],
    ['one step', [i, ...steps(1)], 'needs at least two steps (got 1)'],
    ['index 1 missing', [i, ['step', '0', '5050'], ['step', '2', '5050']], gaps(2, 'missing 1')],
    ['indexes from 1', [i, ['step', '1', '5050'], ['step', '2', '5050']], gaps(2, 'missing 0')],
    ['index 1 twice', [i, ...steps(2), ['step', '1', '5050']], gaps(3, 'index 1 twice')],
    ['index 0 twice', [i, ['step', '0', '5050'], ['step', '0', '5050']], gaps(2, 'index 0 twice')],
    [
      'a fractional index',
      [i, ['step', '0', '5050'], ['step', '1.5', '5050']],
      gaps(2, 'index "1.5" is not a whole number'),
    ],
    [
      'a negative index',
      [i, ['step', '-1', '5050'], ['step', '0', '5050']],
      gaps(2, 'index "-1" is not a whole number'),
    ],
    ['an empty index', [i, ['step', '', '5050'], ['step', '0', '5050']], gaps(2, 'index "" is not a whole number')],
    ['no index', [i, ['step'], ['step', '0', '5050']], gaps(2, 'index null is not a whole number')],
    ['a result kind', [i, ['step', '0', '5050'], ['step', '1', '7000']], notDvm(1, '7000')],
    ['kind 6000', [i, ['step', '0', '6000'], ['step', '1', '5050']], notDvm(0, '6000')],
    ['kind 4999', [i, ['step', '0', '4999'], ['step', '1', '5050']], notDvm(0, '4999')],
    ['a workflow as a step', [i, ['step', '0', '5050'], ['step', '1', '5117']], notDvm(1, '5117')],
    ['a swarm as a step', [i, ['step', '0', '5118'], ['step', '1', '5050']], notDvm(0, '5118')],
    ['a kind not a number', [i, ['step', '0', 'abc'], ['step', '1', '5050']], notDvm(0, '"abc"')],
    ['a fractional kind', [i, ['step', '0', '5050.5'], ['step', '1', '5050']], notDvm(0, '"5050.5"')],
    ['a kind with a leading zero', [i, ['step', '0', '05050'], ['step', '1', '5050']], notDvm(0, '"05050"')],
    ['no kind', [i, ['step', '0'], ['step', '1', '5050']], notDvm(0, 'missing')],
    // The bad kind is on the first tag but at index 1: the reason names the index, not the tag's place.
    ['a bad kind on an unsorted tag', [i, ['step', '1', '1'], ['step', '0', '5050']], notDvm(1, '1')],
    [
      'an uppercase provider',
      [i, ['step', '0', '5050', A.toUpperCase()], ...steps(2).slice(1)],
      'step 0 provider is not a 64-hex pubkey',
    ],
    ['a short provider', [i, ...steps(1), ['step', '1', '5050', A.slice(2)]], 'step 1 provider is not a 64-hex pubkey'],
    [
      'an npub provider',
      [i, ['step', '0', '5050', 'npub1xyz'], ...steps(2).slice(1)],
      'step 0 provider is not a 64-hex pubkey',
    ],
    ['a negative bid', [i, ...steps(2), ['bid', '-1']], 'bid must be a whole number of msats'],
    ['a fractional bid', [i, ...steps(2), ['bid', '1.5']], 'bid must be a whole number of msats'],
    ['a bid not a number', [i, ...steps(2), ['bid', 'lots']], 'bid must be a whole number of msats'],
    ['an empty bid', [i, ...steps(2), ['bid', '']], 'bid must be a whole number of msats'],
    ['a bid tag without a value', [i, ...steps(2), ['bid']], 'bid must be a whole number of msats'],
    ['a 16-digit bid', [i, ...steps(2), ['bid', '1000000000000000']], 'bid must be a whole number of msats'],
  ]
  for (const [rule, tags, reason] of cases)
    t.strictSame(readWorkflow(tagged(tags)), invalid(reason), `${rule}: refused`)
  t.strictSame(
    readWorkflow(customer.sign({ kind: 5050, tags: pipelineTags })),
    invalid('must be kind 5117'),
    'another kind: refused',
  )
})

t.test('the JSON form: each rule refuses with its reason', async t => {
  const two = [{ kind: 5050 }, { kind: 5050 }]
  const notJson = 'no step tags, and the content is not the JSON form {input, steps, bid_sats}'
  const notDvm = (step: number, kind: string) =>
    `step ${step} kind ${kind} is not a DVM job kind (5000-5999, not 5117 or 5118)`
  const raw: [string, string, string][] = [
    ['empty content', '', notJson],
    ['plain text', 'translate this please', notJson],
    ['broken JSON', '{"input": "x", "steps": [', notJson],
    ['a JSON array', '[1, 2]', notJson],
    ['a JSON string', '"x"', notJson],
    ['JSON null', 'null', notJson],
    ['an object without steps', '{"input": "x"}', notJson],
    ['steps not an array', '{"input": "x", "steps": {"0": {"kind": 5050}}}', notJson],
  ]
  for (const [rule, content, reason] of raw)
    t.strictSame(readWorkflow(tagged([['i', 'x']], content)), invalid(reason), `${rule}: refused`)
  const cases: [string, unknown, string][] = [
    ['no input', { steps: two }, 'input must be a non-empty string'],
    ['an empty input', { input: '', steps: two }, 'input must be a non-empty string'],
    ['an input not a string', { input: 42, steps: two }, 'input must be a non-empty string'],
    ['no steps', { input: 'x', steps: [] }, 'needs at least two steps (got 0)'],
    ['one step', { input: 'x', steps: [{ kind: 5050 }] }, 'needs at least two steps (got 1)'],
    [
      'a step not an object',
      { input: 'x', steps: [{ kind: 5050 }, 5050] },
      'step 1 is not an object {kind, description?, provider?}',
    ],
    [
      'a null step',
      { input: 'x', steps: [null, { kind: 5050 }] },
      'step 0 is not an object {kind, description?, provider?}',
    ],
    ['a result kind', { input: 'x', steps: [{ kind: 5050 }, { kind: 7000 }] }, notDvm(1, '7000')],
    ['a workflow as a step', { input: 'x', steps: [{ kind: 5117 }, { kind: 5050 }] }, notDvm(0, '5117')],
    ['a swarm as a step', { input: 'x', steps: [{ kind: 5050 }, { kind: 5118 }] }, notDvm(1, '5118')],
    ['a kind as a string', { input: 'x', steps: [{ kind: '5050' }, { kind: 5050 }] }, notDvm(0, '"5050"')],
    ['a fractional kind', { input: 'x', steps: [{ kind: 5050.5 }, { kind: 5050 }] }, notDvm(0, '5050.5')],
    ['no kind', { input: 'x', steps: [{ kind: 5050 }, { description: 'x' }] }, notDvm(1, 'missing')],
    [
      'a bad provider',
      { input: 'x', steps: [{ kind: 5050 }, { kind: 5050, provider: 'abc' }] },
      'step 1 provider is not a 64-hex pubkey',
    ],
    [
      'a provider not a string',
      { input: 'x', steps: [{ kind: 5050, provider: 7 }, { kind: 5050 }] },
      'step 0 provider is not a 64-hex pubkey',
    ],
    [
      'a description not a string',
      { input: 'x', steps: [{ kind: 5050, description: 7 }, { kind: 5050 }] },
      'step 0 description must be a string',
    ],
    ['a negative bid_sats', { input: 'x', steps: two, bid_sats: -1 }, 'bid_sats must be a whole number of sats'],
    ['a fractional bid_sats', { input: 'x', steps: two, bid_sats: 1.5 }, 'bid_sats must be a whole number of sats'],
    ['bid_sats as a string', { input: 'x', steps: two, bid_sats: '10' }, 'bid_sats must be a whole number of sats'],
    [
      'bid_sats past a safe integer',
      { input: 'x', steps: two, bid_sats: 2 ** 53 },
      'bid_sats must be a whole number of sats',
    ],
  ]
  for (const [rule, body, reason] of cases) t.strictSame(readWorkflow(json(body)), invalid(reason), `${rule}: refused`)
})

t.test('stepRequest: step 0 carries the input, a later step the previous result, in a fixed tag order', async t => {
  const w = read(tagged(pipelineTags))
  t.strictSame(
    stepRequest(w, 0, undefined, NOW),
    {
      kind: 5002,
      created_at: NOW,
      content: '',
      tags: [
        ['i', 'bonjour le monde', 'text'],
        ['P', C],
        ['e', w.id],
        ['step', '0'],
        ['bid', '3333'],
        ['p', A],
        ['param', 'description', 'translate to English'],
      ],
    },
    'step 0: the input with its type, customer, workflow, index, bid share, pinned provider, description',
  )
  t.strictSame(
    stepRequest(w, 2, RESULT, NOW),
    {
      kind: 5250,
      created_at: NOW,
      content: '',
      tags: [
        ['i', RESULT, 'job'],
        ['P', C],
        ['e', w.id],
        ['step', '2'],
        ['bid', '3334'],
      ],
    },
    'step 2: the previous result as a job input, its bid share (with the remainder); unpinned, undescribed',
  )
  t.strictSame(
    stepRequest(w, 1, RESULT, NOW).tags,
    [
      ['i', RESULT, 'job'],
      ['P', C],
      ['e', w.id],
      ['step', '1'],
      ['bid', '3333'],
      ['param', 'description', 'summarize'],
    ],
    'step 1: described but not pinned',
  )
  t.strictSame(
    stepRequest(w, 0, RESULT, NOW).tags[0],
    ['i', 'bonjour le monde', 'text'],
    'step 0 ignores a previous result: its input is the workflow input',
  )
})

t.test('stepRequest: without a bid, no bid tag; a pinned provider without a description', async t => {
  const w = read(
    tagged([
      ['i', 'https://example.com/a.mp3', 'url'],
      ['step', '0', '5000', B, ''],
      ['step', '1', '5001', '', ''],
      ['step', '2', '5002', A, ''],
    ]),
  )
  t.strictSame(
    stepRequest(w, 0, undefined, NOW).tags,
    [
      ['i', 'https://example.com/a.mp3', 'url'],
      ['P', C],
      ['e', w.id],
      ['step', '0'],
      ['p', B],
    ],
    'step 0: the input keeps its type; pinned, no bid, no description',
  )
  t.strictSame(
    stepRequest(w, 2, RESULT, NOW),
    {
      kind: 5002,
      created_at: NOW,
      content: '',
      tags: [
        ['i', RESULT, 'job'],
        ['P', C],
        ['e', w.id],
        ['step', '2'],
        ['p', A],
      ],
    },
    'step 2: pinned, no bid, no description',
  )
})

t.test('stepRequest: a bid share of 0 is still a bid', async t => {
  const w = read(tagged([['i', 'x'], ...steps(2), ['bid', '1']]))
  t.strictSame(stepRequest(w, 0, undefined, NOW).tags[4], ['bid', '0'], 'step 0 of 1 msat over 2 steps bids 0')
  t.strictSame(stepRequest(w, 1, RESULT, NOW).tags[4], ['bid', '1'], 'the last step bids the remaining 1')
})

t.test('stepRequest: a request the market reads as a job request with its bid and target', async t => {
  const w = read(tagged(pipelineTags))
  const req = readJobRequest(relay.sign(stepRequest(w, 0, undefined, NOW)))
  t.match(req, { kind: 5002, bidMsats: 3333, targets: [A] }, 'nips/nip90.ts reads its kind, bid share and provider')
})

t.test('stepRequest: a missing previous result, or a step that does not exist, throws', async t => {
  const w = read(tagged(pipelineTags))
  t.throws(
    () => stepRequest(w, 1, undefined, NOW),
    /step 1 of workflow \w+ needs the id of the result of step 0/,
    'step 1 without a previous result throws',
  )
  t.throws(
    () => stepRequest(w, 2, undefined, NOW),
    /step 2 of workflow \w+ needs the id of the result of step 1/,
    'step 2 without a previous result throws',
  )
  t.throws(
    () => stepRequest(w, 2, 'not-an-id', NOW),
    /needs the id of the result of step 1/,
    'a previous result that is not an event id throws',
  )
  t.throws(() => stepRequest(w, 3, RESULT, NOW), /has no step 3/, 'a step past the last throws')
  t.throws(() => stepRequest(w, -1, RESULT, NOW), /has no step -1/, 'a negative step throws')
  t.throws(() => stepRequest(w, 1.5, RESULT, NOW), /has no step 1.5/, 'a fractional step throws')
  // A workflow built elsewhere (not read) whose steps are not at their indexes: the step is looked up, not guessed.
  const shifted: Workflow = { ...w, steps: w.steps.slice(1) }
  t.throws(() => stepRequest(shifted, 1, RESULT, NOW), /has no step 1/, 'a steps list not in index order throws')
})
