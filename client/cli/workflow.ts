// `agora workflow post FILE`: a 5117 built from a JSON file, followed with --wait to its end, printing the last
// step's result.
import { readFileSync } from 'node:fs'
import { ClientError } from '../errors.js'
import { followWorkflow, postWorkflow, type WorkflowSpec } from '../verbs/workflow.js'
import { connect, CONNECTION, logger, sessionOf } from './common.js'
import { int, readOptions } from './options.js'

const SPEC = { ...CONNECTION, wait: { type: 'boolean' }, timeout: { type: 'string' } } as const

/** `agora workflow post FILE`: a 5117 from a JSON file, followed to its end with --wait. */
export async function workflowCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = readOptions(argv, SPEC)
  const [verb, file] = positionals
  if (v['help'] || verb !== 'post' || !file) throw new ClientError(`usage: agora workflow post FILE [--wait]`, 2)
  let spec: Partial<WorkflowSpec>
  try {
    spec = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new ClientError(`${file}: ${(err as Error).message}`, 2)
  }
  if (typeof spec.input !== 'string' || !Array.isArray(spec.steps))
    throw new ClientError(`${file}: needs "input" (text) and "steps" ([{"kind": 5100}, ...])`, 2)
  const log = logger(v, 'workflow')
  const pool = await connect(v, log)
  try {
    const c = sessionOf(pool, v, log, int(v, 'timeout', { min: 1, fallback: 600 })! * 1000)
    const w = await postWorkflow(c, spec as WorkflowSpec)
    log(`workflow ${w.id} posted`)
    if (!v['wait']) {
      c.out(w.id)
      return 0
    }
    return await followWorkflow(c, w.id)
  } finally {
    pool.close()
  }
}
