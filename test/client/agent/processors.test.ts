// The agent's processors against real parts: shell scripts run as child processes, an HTTP service and an
// Ollama-speaking fixture on loopback.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { MAX_OUTPUT_BYTES, parseProcessor, type JobInput } from '../../../client/agent/processors.js'
import { ClientError } from '../../../client/errors.js'
import { isAlive } from '../../helpers/cli.js'
import { tempDir } from '../../helpers/relay.js'
import { waitFor } from '../../helpers/wait.js'

/** What the fixtures need of a test: a teardown. */
type Tap = { teardown(fn: () => unknown): void }

const job = (partial: Partial<JobInput> = {}): JobInput => ({
  id: 'a'.repeat(64),
  kind: 5100,
  input: 'hello',
  inputs: [{ value: 'hello', type: 'text' }],
  params: {},
  customer: 'b'.repeat(64),
  ...partial,
})

const RUN = { timeoutMs: 10_000 }

/** Writes an executable shell script into dir and returns its path. */
function script(dir: string, name: string, body: string): string {
  const file = join(dir, name)
  writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 })
  return file
}

/** Reads a pid a script wrote, once the file holds one. */
async function pidFrom(file: string): Promise<number> {
  await waitFor(() => existsSync(file) && /^\d+\n/.test(readFileSync(file, 'utf8')), `a pid in ${file}`)
  return Number(readFileSync(file, 'utf8'))
}

/** An HTTP server on 127.0.0.1 port 0, closed (hanging connections too) at teardown. */
async function startServer(t: Tap, handle: (req: IncomingMessage, body: string, res: ServerResponse) => void) {
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
    req.on('end', () => handle(req, body, res))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise(resolve => server.close(resolve))
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A loopback server speaking Ollama's non-streaming /api/generate for the given models; records each request. */
async function startOllama(t: Tap, models: string[]) {
  const requests: Record<string, unknown>[] = []
  const url = await startServer(t, (req, body, res) => {
    if (req.method !== 'POST' || req.url !== '/api/generate') return res.writeHead(404).end('404 page not found')
    const ask = JSON.parse(body) as { model: string; prompt: string }
    requests.push(ask)
    const json = (status: number, answer: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer))
    if (!models.includes(ask.model)) return json(404, { error: `model '${ask.model}' not found` })
    json(200, { model: ask.model, created_at: new Date().toISOString(), response: `echo: ${ask.prompt}`, done: true })
  })
  return { url, requests }
}

t.test('exec', async t => {
  t.test('hands the input on stdin and returns stdout without its trailing newline', async t => {
    const dir = tempDir(t)
    const p = parseProcessor(`exec:${script(dir, 'upper.sh', 'tr a-z A-Z; echo')}`)
    t.equal(await p.run(job({ input: 'hello\nworld' }), RUN), 'HELLO\nWORLD')
  })

  t.test('passes params and the job in the environment and inherits the rest of it', async t => {
    const dir = tempDir(t)
    process.env.AGORA_TEST_INHERITED = 'inherited'
    t.teardown(() => delete process.env.AGORA_TEST_INHERITED)
    const vars = 'AGORA_PARAM_LANG AGORA_PARAM_MAX_TOKENS AGORA_JOB_ID AGORA_JOB_KIND AGORA_CUSTOMER AGORA_INPUT_TYPE'
    const body = `for v in ${vars} AGORA_TEST_INHERITED; do eval "echo \\$v=\\$$v"; done`
    const p = parseProcessor(`exec:${script(dir, 'env.sh', body)}`)
    const out = await p.run(
      job({ params: { lang: 'de', 'max-tokens': 'a b=c' }, inputs: [{ value: 'https://x.example', type: 'url' }] }),
      RUN,
    )
    t.same(out.split('\n'), [
      'AGORA_PARAM_LANG=de',
      'AGORA_PARAM_MAX_TOKENS=a b=c',
      `AGORA_JOB_ID=${'a'.repeat(64)}`,
      'AGORA_JOB_KIND=5100',
      `AGORA_CUSTOMER=${'b'.repeat(64)}`,
      'AGORA_INPUT_TYPE=url',
      'AGORA_TEST_INHERITED=inherited',
    ])
  })

  t.test('refuses a param the environment cannot carry', async t => {
    const err = await parseProcessor('exec:cat')
      .run(job({ params: { lang: 'de\0fr' } }), RUN)
      .catch(e => e)
    t.type(err, ClientError)
    t.equal(err.message, 'param lang holds a NUL character, which exec cannot pass on')
  })

  t.test('runs the command in the current directory', async t => {
    t.equal(await parseProcessor('exec:pwd').run(job(), RUN), process.cwd())
  })

  t.test('succeeds when the command never reads its input', async t => {
    const p = parseProcessor('exec:echo done')
    t.equal(await p.run(job({ input: 'x'.repeat(4 * 1024 * 1024) }), RUN), 'done')
  })

  t.test('reports a non-zero exit with the last 300 characters of stderr', async t => {
    const dir = tempDir(t)
    const p = parseProcessor(
      `exec:${script(dir, 'fail.sh', `head -c 1000 /dev/zero | tr '\\0' x >&2; echo END >&2; exit 3`)}`,
    )
    const err = await p.run(job(), RUN).catch(e => e)
    t.type(err, ClientError)
    t.match(err.message, /^processor exited with code 3: x+END$/)
    t.equal(err.message.length, 'processor exited with code 3: '.length + 300)
  })

  t.test('says the command was not found', async t => {
    const err = await parseProcessor('exec:agora-no-such-command --flag')
      .run(job(), RUN)
      .catch(e => e)
    t.match(err.message, /^processor exited with code 127 \(command not found\): .*agora-no-such-command.*not found/)
  })

  t.test('says which signal killed the command', async t => {
    const err = await parseProcessor('exec:kill -9 $$')
      .run(job(), RUN)
      .catch(e => e)
    t.equal(err.message, 'processor was killed by SIGKILL')
  })

  t.test('kills the whole process group of a command that outlives its timeout', async t => {
    const dir = tempDir(t)
    const body = `sleep 1000 & echo $! > ${dir}/child.pid; echo $$ > ${dir}/sh.pid; wait`
    const started = Date.now()
    const err = await parseProcessor(`exec:${script(dir, 'hang.sh', body)}`)
      .run(job(), { timeoutMs: 300 })
      .catch(e => e)
    t.equal(err.message, 'processor timed out after 0.3 s')
    t.ok(Date.now() - started < 2000, 'the SIGTERM alone was enough')
    for (const name of ['sh.pid', 'child.pid']) {
      const pid = await pidFrom(join(dir, name))
      await waitFor(() => !isAlive(pid), `${name} ${pid} to be gone`)
      t.notOk(isAlive(pid), `${name} is gone`)
    }
  })

  t.test('kills a command that ignores SIGTERM with SIGKILL after the grace period', async t => {
    const dir = tempDir(t)
    const body = `trap '' TERM; sleep 1000 & echo $! > ${dir}/child.pid; echo $$ > ${dir}/sh.pid; wait; wait`
    const err = await parseProcessor(`exec:${script(dir, 'stubborn.sh', body)}`)
      .run(job(), { timeoutMs: 300 })
      .catch(e => e)
    t.equal(err.message, 'processor timed out after 0.3 s')
    for (const name of ['sh.pid', 'child.pid']) {
      const pid = await pidFrom(join(dir, name))
      await waitFor(() => !isAlive(pid), `${name} ${pid} to be gone`)
      t.notOk(isAlive(pid), `${name} is gone`)
    }
  })

  t.test('stops the command when the caller aborts', async t => {
    const dir = tempDir(t)
    const p = parseProcessor(`exec:${script(dir, 'wait.sh', `echo $$ > ${dir}/sh.pid; sleep 1000`)}`)
    const stop = new AbortController()
    const running = p.run(job(), { timeoutMs: 60_000, signal: stop.signal }).catch(e => e)
    const pid = await pidFrom(join(dir, 'sh.pid'))
    stop.abort()
    t.equal((await running).message, 'processor was stopped before it finished')
    await waitFor(() => !isAlive(pid), `sh ${pid} to be gone`)
    t.notOk(isAlive(pid))
  })

  t.test('does not start when the signal has already aborted', async t => {
    const dir = tempDir(t)
    const p = parseProcessor(`exec:touch ${dir}/ran`)
    const err = await p.run(job(), { timeoutMs: 10_000, signal: AbortSignal.abort() }).catch(e => e)
    t.equal(err.message, 'processor was stopped before it finished')
    t.notOk(existsSync(join(dir, 'ran')))
  })

  t.test('refuses output past 1 MiB and stops the command', async t => {
    const err = await parseProcessor('exec:yes')
      .run(job(), RUN)
      .catch(e => e)
    t.equal(err.message, 'processor output exceeds 1 MiB')
  })

  t.test('accepts output of exactly 1 MiB', async t => {
    const out = await parseProcessor(`exec:head -c ${MAX_OUTPUT_BYTES} /dev/zero | tr '\\0' x`).run(job(), RUN)
    t.equal(out.length, MAX_OUTPUT_BYTES)
  })
})

t.test('http', async t => {
  t.test('posts the job as JSON and returns the result field of a JSON answer', async t => {
    let seen: { type?: string; method?: string; body?: unknown } = {}
    const url = await startServer(t, (req, body, res) => {
      seen = { type: req.headers['content-type'], method: req.method, body: JSON.parse(body) }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: 'done', cost: 3 }))
    })
    const j = job({ params: { lang: 'de' } })
    t.equal(await parseProcessor(`${url}/run`).run(j, RUN), 'done')
    t.same(seen, {
      type: 'application/json',
      method: 'POST',
      body: { id: j.id, kind: 5100, input: 'hello', inputs: j.inputs, params: { lang: 'de' }, customer: j.customer },
    })
  })

  t.test('returns the body text when the answer is not JSON with a result string', async t => {
    const bodies = ['plain text answer', '{"result": 42}', '["result"]']
    const url = await startServer(t, (_req, _body, res) => res.end(bodies.shift()))
    const p = parseProcessor(url)
    t.equal(await p.run(job(), RUN), 'plain text answer')
    t.equal(await p.run(job(), RUN), '{"result": 42}')
    t.equal(await p.run(job(), RUN), '["result"]')
  })

  t.test('reports an error status with the first 300 characters of the body', async t => {
    const url = await startServer(t, (_req, _body, res) => res.writeHead(500).end('boom'.repeat(100)))
    const err = await parseProcessor(url)
      .run(job(), RUN)
      .catch(e => e)
    t.type(err, ClientError)
    t.equal(err.message, `processor ${url} answered 500: ${'boom'.repeat(75)}`)
  })

  t.test('names a service that cannot be reached', async t => {
    const server = createServer()
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
    await new Promise(resolve => server.close(resolve))
    const err = await parseProcessor(url)
      .run(job(), RUN)
      .catch(e => e)
    t.equal(err.message, `processor ${url} cannot be reached: ECONNREFUSED`)
  })

  t.test('times out on a service that never answers', async t => {
    let asked = 0
    const url = await startServer(t, () => asked++)
    const err = await parseProcessor(url)
      .run(job(), { timeoutMs: 200 })
      .catch(e => e)
    t.equal(err.message, 'processor timed out after 0.2 s')
    t.equal(asked, 1)
  })

  t.test('stops when the caller aborts', async t => {
    let asked = 0
    const url = await startServer(t, () => asked++)
    const stop = new AbortController()
    const running = parseProcessor(url)
      .run(job(), { timeoutMs: 60_000, signal: stop.signal })
      .catch(e => e)
    await waitFor(() => asked === 1, 'the request')
    stop.abort()
    t.equal((await running).message, 'processor was stopped before it finished')
  })

  t.test('refuses an answer past 1 MiB', async t => {
    const url = await startServer(t, (_req, _body, res) => res.end('x'.repeat(MAX_OUTPUT_BYTES + 1)))
    const err = await parseProcessor(url)
      .run(job(), RUN)
      .catch(e => e)
    t.equal(err.message, 'processor output exceeds 1 MiB')
  })
})

t.test('ollama', async t => {
  t.test('sends the prompt with system and numeric options and returns the response', async t => {
    const ollama = await startOllama(t, ['llama3'])
    const p = parseProcessor(`ollama:llama3@${ollama.url}/`)
    t.equal(p.describe, `ollama:llama3@${ollama.url}`)
    const params = { system: 'Be brief.', temperature: '0.2', top_p: '0.9', num_predict: '64', lang: 'de' }
    t.equal(await p.run(job({ input: 'hi', params }), RUN), 'echo: hi')
    t.same(ollama.requests, [
      {
        model: 'llama3',
        prompt: 'hi',
        stream: false,
        system: 'Be brief.',
        options: { temperature: 0.2, top_p: 0.9, num_predict: 64 },
      },
    ])
  })

  t.test('sends neither system nor options when no param sets them', async t => {
    const ollama = await startOllama(t, ['llama3'])
    await parseProcessor(`ollama:llama3@${ollama.url}`).run(job(), RUN)
    t.same(ollama.requests, [{ model: 'llama3', prompt: 'hello', stream: false }])
  })

  t.test("shows ollama's own error for a model it does not have", async t => {
    const ollama = await startOllama(t, ['llama3'])
    const err = await parseProcessor(`ollama:mistral@${ollama.url}`)
      .run(job(), RUN)
      .catch(e => e)
    t.equal(err.message, `processor ollama:mistral at ${ollama.url} answered 404: model 'mistral' not found`)
  })

  t.test('refuses a sampling param that is not a number', async t => {
    const ollama = await startOllama(t, ['llama3'])
    const err = await parseProcessor(`ollama:llama3@${ollama.url}`)
      .run(job({ params: { temperature: 'warm' } }), RUN)
      .catch(e => e)
    t.equal(err.message, 'param temperature must be a number, got "warm"')
    t.equal(ollama.requests.length, 0)
  })

  t.test('refuses an answer without a response', async t => {
    const url = await startServer(t, (_req, _body, res) => res.end('{"done":true}'))
    const err = await parseProcessor(`ollama:llama3@${url}`)
      .run(job(), RUN)
      .catch(e => e)
    t.equal(err.message, `processor ollama:llama3 at ${url} answered without a response: {"done":true}`)
  })

  t.test('names the model when ollama cannot be reached', async t => {
    const server = createServer()
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    await new Promise(resolve => server.close(resolve))
    const err = await parseProcessor(`ollama:llama3@${url}`)
      .run(job(), RUN)
      .catch(e => e)
    t.equal(err.message, `processor ollama:llama3 at ${url} cannot be reached: ECONNREFUSED`)
  })

  t.test('uses the local default URL when none is given', async t => {
    t.equal(parseProcessor('ollama:qwen2.5:7b').describe, 'ollama:qwen2.5:7b@http://127.0.0.1:11434')
  })
})

t.test('parseProcessor', async t => {
  t.test('describes each kind of processor', async t => {
    t.equal(parseProcessor('exec: ./translate.sh --to de').describe, 'exec:./translate.sh --to de')
    t.equal(parseProcessor('https://ai.example/run').describe, 'https://ai.example/run')
  })

  const expected = 'expected exec:CMD, http(s)://URL, ollama:MODEL or ollama:MODEL@URL'
  const bad: [string, string][] = [
    ['', expected],
    ['./translate.sh', expected],
    ['ftp://files.example', expected],
    ['exec:', 'exec: needs a command'],
    ['exec:   ', 'exec: needs a command'],
    ['http://', 'not a valid URL'],
    ['ollama:', 'ollama: needs a model name'],
    ['ollama:@http://x', 'ollama: needs a model name'],
    ['ollama:llama3@127.0.0.1:11434', '"127.0.0.1:11434" is not an http(s) URL'],
  ]
  for (const [spec, why] of bad) {
    t.test(`refuses ${JSON.stringify(spec)}`, async t => {
      t.throws(() => parseProcessor(spec), { name: 'ClientError', message: `bad processor "${spec}": ${why}` })
    })
  }
})
