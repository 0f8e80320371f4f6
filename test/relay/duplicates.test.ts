import t from 'tap'
import { batchedStoredCheck } from '../../relay/duplicates.js'

t.test('ids asked for in one turn are looked up in one call, each answered by it', async t => {
  const calls: string[][] = []
  const check = batchedStoredCheck(ids => {
    calls.push([...ids])
    return new Set(ids.filter(id => id.startsWith('old')))
  })
  const first = await Promise.all(['old1', 'new1', 'old2'].map(check))
  t.same(first, [true, false, true])
  t.same(calls, [['old1', 'new1', 'old2']], 'one lookup for the turn')
  t.same(await check('new2'), false)
  t.same(calls.length, 2, 'a later turn makes its own lookup')
})

t.test('a failed lookup fails every id of its batch, and the next batch is looked up again', async t => {
  let fail = true
  const check = batchedStoredCheck(ids => {
    if (fail) throw new Error('database is locked')
    return new Set(ids)
  })
  const results = await Promise.allSettled([check('a'), check('b')])
  t.same(
    results.map(r => (r.status === 'rejected' ? (r.reason as Error).message : r.value)),
    ['database is locked', 'database is locked'],
  )
  fail = false
  t.equal(await check('a'), true)
})
