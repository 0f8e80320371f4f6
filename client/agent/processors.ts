// Processors: what turns one job's input into its result. An `exec` command (input on stdin, params in the
// environment, stdout is the result), an HTTP service (a JSON POST) or an Ollama model (/api/generate). Every
// failure is a ClientError whose message the agent can send to the customer as `error` feedback.
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { ClientError } from '../errors.js'
import type { JobRequest } from '../market.js'

/** What a processor gets for one job: the request's fields, and `input`, the text it works on. */
export type JobInput = Pick<JobRequest, 'id' | 'kind' | 'inputs' | 'params' | 'customer'> & { readonly input: string }

/** How long a run may take, and a signal that stops it early. */
export type RunOptions = { timeoutMs: number; signal?: AbortSignal }

/** Runs jobs; `describe` names it in logs (`exec:CMD`, the URL, `ollama:MODEL@URL`). */
export type Processor = { readonly describe: string; run(job: JobInput, o: RunOptions): Promise<string> }

/** The most a processor may answer: a result larger than this fits no relay's event size anyway. */
export const MAX_OUTPUT_BYTES = 1024 * 1024
/** How long a stopped command's process group has between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 2000
const OLLAMA_DEFAULT_URL = 'http://127.0.0.1:11434'
const OLLAMA_OPTIONS = ['temperature', 'top_p', 'num_predict']
const SPECS = 'exec:CMD, http(s)://URL, ollama:MODEL or ollama:MODEL@URL'

/** Parses `exec:CMD`, `http://URL`, `https://URL`, `ollama:MODEL` or `ollama:MODEL@URL`; a bad spec throws ClientError naming it. */
export function parseProcessor(spec: string): Processor {
  const bad = (why: string) => new ClientError(`bad processor "${spec}": ${why}`)
  if (spec.startsWith('exec:')) {
    const cmd = spec.slice('exec:'.length).trim()
    if (!cmd) throw bad('exec: needs a command')
    return { describe: `exec:${cmd}`, run: (job, o) => runCommand(cmd, job, o) }
  }
  if (/^https?:\/\//i.test(spec)) {
    if (!URL.canParse(spec)) throw bad('not a valid URL')
    return { describe: spec, run: (job, o) => runHttp(spec, job, o) }
  }
  if (spec.startsWith('ollama:')) {
    const [model, url = OLLAMA_DEFAULT_URL] = splitOnce(spec.slice('ollama:'.length), '@')
    if (!model) throw bad('ollama: needs a model name')
    if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) throw bad(`"${url}" is not an http(s) URL`)
    const base = url.replace(/\/+$/, '')
    return { describe: `ollama:${model}@${base}`, run: (job, o) => runOllama(model, base, job, o) }
  }
  throw bad(`expected ${SPECS}`)
}

const splitOnce = (s: string, sep: string): [string, string?] => {
  const at = s.indexOf(sep)
  return at < 0 ? [s] : [s.slice(0, at), s.slice(at + 1)]
}

const tail = (s: string) => s.trim().slice(-300)
const timedOut = (ms: number) => new ClientError(`processor timed out after ${ms / 1000} s`)
const stopped = () => new ClientError('processor was stopped before it finished')
const tooLarge = () => new ClientError(`processor output exceeds ${MAX_OUTPUT_BYTES / 1024 / 1024} MiB`)

/** The job as `NAME=VALUE` assignments: AGORA_JOB_ID, AGORA_JOB_KIND, AGORA_CUSTOMER, AGORA_INPUT_TYPE, AGORA_PARAM_<NAME>. */
function jobEnv(job: JobInput): string[] {
  const vars = [
    `AGORA_JOB_ID=${job.id}`,
    `AGORA_JOB_KIND=${job.kind}`,
    `AGORA_CUSTOMER=${job.customer}`,
    `AGORA_INPUT_TYPE=${job.inputs[0]?.type ?? ''}`,
  ]
  for (const [name, value] of Object.entries(job.params)) {
    // A C string ends at NUL, so no environment variable can carry one.
    if (value.includes('\0')) throw new ClientError(`param ${name} holds a NUL character, which exec cannot pass on`)
    vars.push(`AGORA_PARAM_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}=${value}`)
  }
  return vars
}

/** Runs `/bin/sh -c cmd` in its own process group; resolves with stdout, minus one trailing newline. */
function runCommand(cmd: string, job: JobInput, o: RunOptions): Promise<string> {
  if (o.signal?.aborted) return Promise.reject(stopped())
  return new Promise((resolve, reject) => {
    // env(1) adds the job's variables to the environment the child inherits, so this library never reads
    // process.env itself (STYLE §2.7). detached: the command leads a process group that a stop kills whole.
    const child = spawn('/usr/bin/env', [...jobEnv(job), '/bin/sh', '-c', cmd], { detached: true })
    const output = collectOutput(child, () => stop(tooLarge()))
    let failure: ClientError | undefined
    let settled = false
    const stop = (why: ClientError) => {
      if (failure) return
      failure = why
      killGroup(child)
      if (child.exitCode !== null || child.signalCode !== null) settle(why)
    }
    const timer = setTimeout(() => stop(timedOut(o.timeoutMs)), o.timeoutMs)
    const onAbort = () => stop(stopped())
    o.signal?.addEventListener('abort', onAbort, { once: true })
    const settle = (err: ClientError | undefined) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      o.signal?.removeEventListener('abort', onAbort)
      if (err) reject(err)
      else resolve(output.stdout().replace(/\r?\n$/, ''))
    }
    child.on('error', err => settle(new ClientError(`processor cannot start: ${err.message}`)))
    // A stopped command is done once its shell is gone; descendants holding the pipes open get the SIGKILL.
    child.on('exit', () => failure && settle(failure))
    child.on('close', (code, signal) => settle(failure ?? exitFailure(code, signal, output.stderr())))
    // A command that never reads its input closes the pipe early (EPIPE); its exit status tells what happened.
    child.stdin.on('error', () => {})
    child.stdin.end(job.input)
  })
}

/** Gathers the child's stdout up to MAX_OUTPUT_BYTES (calling onOverflow past it) and the end of its stderr. */
function collectOutput(child: ChildProcessWithoutNullStreams, onOverflow: () => void) {
  const out: Buffer[] = []
  let outBytes = 0
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    outBytes += chunk.length
    if (outBytes > MAX_OUTPUT_BYTES) onOverflow()
    else out.push(chunk)
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-1000)))
  return { stdout: () => Buffer.concat(out).toString('utf8'), stderr: () => stderr }
}

/** Why a finished command failed, or undefined when it exited 0. */
function exitFailure(code: number | null, signal: NodeJS.Signals | null, stderr: string): ClientError | undefined {
  if (code === 0) return undefined
  const detail = tail(stderr) ? `: ${tail(stderr)}` : ''
  if (signal) return new ClientError(`processor was killed by ${signal}${detail}`)
  // sh answers 127 when the command does not exist (POSIX 2.8.2).
  const notFound = code === 127 ? ' (command not found)' : ''
  return new ClientError(`processor exited with code ${code}${notFound}${detail}`)
}

/** SIGTERM to the command's whole process group, SIGKILL after the grace period for what is left. */
function killGroup(child: ChildProcess) {
  const pid = child.pid
  if (pid === undefined) return
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig)
    } catch {
      // ESRCH: the group is already gone.
    }
  }
  signalGroup('SIGTERM')
  setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS)
}

type Answer = { status: number; text: string }

/** POSTs body as JSON to url within the timeout; `label` names the processor in every error. */
async function postJson(url: string, body: unknown, label: string, o: RunOptions): Promise<Answer> {
  const timeout = AbortSignal.timeout(o.timeoutMs)
  const signal = o.signal ? AbortSignal.any([timeout, o.signal]) : timeout
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal,
    })
    return { status: res.status, text: await readCapped(res) }
  } catch (err) {
    if (err instanceof ClientError) throw err
    if (timeout.aborted) throw timedOut(o.timeoutMs)
    if (o.signal?.aborted) throw stopped()
    throw new ClientError(`processor ${label} cannot be reached: ${networkReason(err)}`)
  }
}

/** The body as text, refused past MAX_OUTPUT_BYTES without reading the rest. */
async function readCapped(res: Response): Promise<string> {
  if (!res.body) return ''
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let bytes = 0
  for (let part = await reader.read(); !part.done; part = await reader.read()) {
    bytes += part.value.length
    if (bytes > MAX_OUTPUT_BYTES) {
      await reader.cancel()
      throw tooLarge()
    }
    chunks.push(part.value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** fetch's "fetch failed" hides the reason in `cause`: ECONNREFUSED, ENOTFOUND, a TLS error... */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? (err as Error).message ?? String(err)
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

const field = (value: unknown, name: string): unknown =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined

/** POSTs the job; the result is the answer's `result` string when it is JSON with one, else the body text. */
async function runHttp(url: string, job: JobInput, o: RunOptions): Promise<string> {
  const { id, kind, input, inputs, params, customer } = job
  const answer = await postJson(url, { id, kind, input, inputs, params, customer }, url, o)
  if (answer.status < 200 || answer.status > 299) {
    throw new ClientError(`processor ${url} answered ${answer.status}: ${answer.text.slice(0, 300)}`)
  }
  const result = field(parseJson(answer.text), 'result')
  return typeof result === 'string' ? result : answer.text
}

/** Asks the model for a completion of the input (no streaming); params system, temperature, top_p, num_predict apply. */
async function runOllama(model: string, base: string, job: JobInput, o: RunOptions): Promise<string> {
  const label = `ollama:${model} at ${base}`
  const body: Record<string, unknown> = { model, prompt: job.input, stream: false }
  if (job.params.system !== undefined) body.system = job.params.system
  const options = ollamaOptions(job.params)
  if (options) body.options = options
  const answer = await postJson(`${base}/api/generate`, body, label, o)
  const json = parseJson(answer.text)
  if (answer.status < 200 || answer.status > 299) {
    // Ollama explains itself in `error`: "model 'x' not found".
    const error = field(json, 'error')
    const why = typeof error === 'string' ? error : answer.text.slice(0, 300)
    throw new ClientError(`processor ${label} answered ${answer.status}: ${why}`)
  }
  const response = field(json, 'response')
  if (typeof response !== 'string') {
    throw new ClientError(`processor ${label} answered without a response: ${answer.text.slice(0, 300)}`)
  }
  return response
}

/** Ollama's sampling options from the job's numeric params; a param that is not a number is refused. */
function ollamaOptions(params: Readonly<Record<string, string>>): Record<string, number> | undefined {
  const entries = OLLAMA_OPTIONS.filter(name => params[name] !== undefined).map(name => {
    const value = Number(params[name])
    if (params[name]!.trim() === '' || !Number.isFinite(value)) {
      throw new ClientError(`param ${name} must be a number, got "${params[name]}"`)
    }
    return [name, value] as const
  })
  return entries.length ? Object.fromEntries(entries) : undefined
}
