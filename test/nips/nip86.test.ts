import t from 'tap'
import { isRejection } from '../../nips/nip01.js'
import { parseRpcRequest } from '../../nips/nip86.js'

t.test('parseRpcRequest reads a method and its params', async t => {
  t.same(parseRpcRequest('{"method":"banpubkey","params":["ab","spam"]}'), {
    method: 'banpubkey',
    params: ['ab', 'spam'],
  })
})

t.test('parseRpcRequest takes missing params as none', async t => {
  t.same(parseRpcRequest('{"method":"supportedmethods"}'), { method: 'supportedmethods', params: [] })
})

t.test('parseRpcRequest refuses bodies that are not a request, with invalid: and what to send', async t => {
  const cases: [string, string, RegExp][] = [
    ['not JSON', 'ban everyone', /^the body must be JSON/],
    ['an array', '["banpubkey"]', /^the body must be a JSON object/],
    ['null', 'null', /^the body must be a JSON object/],
    ['no method', '{"params":[]}', /^method must be a non-empty string$/],
    ['an empty method', '{"method":""}', /^method must be a non-empty string$/],
    ['a numeric method', '{"method":7}', /^method must be a non-empty string$/],
    ['params not an array', '{"method":"x","params":{"a":1}}', /^params must be an array$/],
  ]
  for (const [name, body, re] of cases) {
    const r = parseRpcRequest(body)
    t.ok(isRejection(r), name)
    if (isRejection(r)) {
      t.equal(r.prefix, 'invalid', name)
      t.match(r.reason, re, name)
    }
  }
})
