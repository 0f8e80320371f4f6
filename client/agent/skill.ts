// The skill descriptor: what a provider can do, read from `agora agent --skill FILE` and published in its
// NIP-89 31990 content. The file is one JSON object; only `name` is required, and an unknown field is refused
// so that a typo does not silently drop a capability:
//
//   {
//     "name": "translator",                  // required, non-empty
//     "about": "Translates text",             // default ""
//     "version": "1",                         // the descriptor's own version, default "1"
//     "input": { "type": ["text", "url"],     // accepted NIP-90 i types (text, url, event, job): one or a list;
//                "schema": { ... } },         //   default all four; schema: optional JSON schema of the input text,
//                                             //   published for customers, not checked
//     "params": {                             // JSON schema of the job's ["param", name, value] tags, default {}
//       "type": "object",
//       "properties": { "lang": { "type": "string", "enum": ["de", "fr"], "description": "target language" } },
//       "required": ["lang"],
//       "additionalProperties": false         // refuse params not in properties (default: allow them)
//     },
//     "models": ["llama3"],                   // default []
//     "features": ["translation", "german"],  // free words customers filter on, default []
//     "lud16": "me@ln.example",               // optional lightning address
//     "picture": "https://example.com/a.png"  // optional http(s) URL
//   }
//
// Params arrive as strings, so each property's `type` says how the value is read: string (as is), number, integer,
// boolean ("true" or "false"). The runtime checks type, enum, minimum, maximum, required and additionalProperties
// before it quotes a job, and refuses one that fails with `error` feedback giving the reason. A property may also
// carry title, description and default, published for customers; any other keyword is refused, since the runtime
// would not enforce it. The 31990 content is `{ name, about, picture?, lud16?, skill }`, where `skill` holds the
// rest: version, input, params, models, features.
import { readFileSync } from 'node:fs'
import { ClientError } from '../errors.js'

/** A param value or an enum entry. */
export type Scalar = string | number | boolean
/** How a param's string value is read. */
export type ParamType = 'string' | 'number' | 'integer' | 'boolean'
/** NIP-90 input types (an i tag's third element). */
export type InputType = 'text' | 'url' | 'event' | 'job'

/** One param's schema. */
export type ParamSchema = {
  readonly type?: ParamType
  readonly enum?: readonly Scalar[]
  readonly minimum?: number
  readonly maximum?: number
  readonly title?: string
  readonly description?: string
  readonly default?: Scalar
}

/** The JSON schema of a job's params: an object schema whose properties are the param names. */
export type ParamsSchema = {
  readonly type: 'object'
  readonly properties: Readonly<Record<string, ParamSchema>>
  readonly required?: readonly string[]
  readonly additionalProperties?: boolean
  readonly title?: string
  readonly description?: string
}

/** What a provider can do (see the format above). */
export type Skill = {
  readonly name: string
  readonly about: string
  readonly version: string
  readonly input: { readonly type: readonly InputType[]; readonly schema?: Readonly<Record<string, unknown>> }
  readonly params: ParamsSchema
  readonly models: readonly string[]
  readonly features: readonly string[]
  readonly lud16?: string
  readonly picture?: string
}

type Json = Record<string, unknown>

const FIELDS = ['name', 'about', 'version', 'input', 'params', 'models', 'features', 'lud16', 'picture']
const INPUT_FIELDS = ['type', 'schema']
const PARAMS_FIELDS = ['type', 'properties', 'required', 'additionalProperties', 'title', 'description']
const PARAM_FIELDS = ['type', 'enum', 'minimum', 'maximum', 'title', 'description', 'default']
const INPUT_TYPES: readonly InputType[] = ['text', 'url', 'event', 'job']
const PARAM_TYPES: readonly ParamType[] = ['string', 'number', 'integer', 'boolean']

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every(s => typeof s === 'string')
const nonString = (o: Json, fields: readonly string[]) =>
  fields.find(f => o[f] !== undefined && typeof o[f] !== 'string')
const unknownField = (o: Json, known: readonly string[], where: string) => {
  const extra = Object.keys(o).find(k => !known.includes(k))
  return extra === undefined ? undefined : `${where}unknown field "${extra}" (known: ${known.join(', ')})`
}

/** Reads and validates a skill file; throws ClientError naming the file and what is wrong. */
export function loadSkill(file: string): Skill {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ClientError(`skill file ${file}: cannot be read: ${(err as NodeJS.ErrnoException).code ?? err}`)
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new ClientError(`skill file ${file}: not JSON: ${(err as Error).message}`)
  }
  const problem = isObject(raw) ? skillProblem(raw) : 'it must be a JSON object'
  if (problem) throw new ClientError(`skill file ${file}: ${problem}`)
  return withDefaults(raw as Json)
}

/** What is wrong with a parsed skill file, or undefined. */
function skillProblem(raw: Json): string | undefined {
  const extra = unknownField(raw, FIELDS, '')
  if (extra) return extra
  if (typeof raw.name !== 'string' || !raw.name.trim()) return 'name is missing (a non-empty string)'
  const notString = nonString(raw, ['about', 'version', 'lud16', 'picture'])
  if (notString) return `${notString} must be a string`
  const notList = ['models', 'features'].find(f => raw[f] !== undefined && !isStringList(raw[f]))
  if (notList) return `${notList} must be a list of strings`
  if (typeof raw.lud16 === 'string' && !/^[^@\s]+@[^@\s]+$/.test(raw.lud16)) {
    return `lud16 "${raw.lud16}" is not a lightning address (name@domain)`
  }
  if (typeof raw.picture === 'string' && !/^https?:\/\//i.test(raw.picture)) {
    return `picture "${raw.picture}" is not an http(s) URL`
  }
  return inputProblem(raw.input) ?? paramsProblem(raw.params)
}

function inputProblem(input: unknown): string | undefined {
  if (input === undefined) return undefined
  if (!isObject(input)) return 'input must be an object: { "type": ["text", ...], "schema"?: {...} }'
  const extra = unknownField(input, INPUT_FIELDS, 'input: ')
  if (extra) return extra
  const types = typeof input.type === 'string' ? [input.type] : input.type
  if (!isStringList(types) || types.length === 0) return 'input.type must be an input type or a non-empty list of them'
  const bad = types.find(t => !INPUT_TYPES.includes(t as InputType))
  if (bad !== undefined) return `input.type "${bad}" is not a NIP-90 input type (${INPUT_TYPES.join(', ')})`
  if (input.schema !== undefined && !isObject(input.schema)) return 'input.schema must be a JSON schema (an object)'
  return undefined
}

function paramsProblem(params: unknown): string | undefined {
  if (params === undefined) return undefined
  if (!isObject(params) || params.type !== 'object') return 'params must be a JSON schema with "type": "object"'
  const extra = unknownField(params, PARAMS_FIELDS, 'params: ')
  if (extra) return extra
  const properties = params.properties ?? {}
  if (!isObject(properties)) return 'params.properties must be an object of param schemas'
  for (const [name, schema] of Object.entries(properties)) {
    const problem = paramProblem(schema)
    if (problem) return `params.properties.${name}: ${problem}`
  }
  if (params.required !== undefined && !isStringList(params.required)) return 'params.required must be a list of names'
  const undeclared = params.required?.find(name => !Object.hasOwn(properties, name))
  if (undeclared !== undefined) return `params.required names "${undeclared}", which params.properties does not define`
  if (params.additionalProperties !== undefined && typeof params.additionalProperties !== 'boolean') {
    return 'params.additionalProperties must be true or false'
  }
  const notString = nonString(params, ['title', 'description'])
  return notString && `params.${notString} must be a string`
}

function paramProblem(schema: unknown): string | undefined {
  if (!isObject(schema)) return 'must be a schema object'
  const extra = unknownField(schema, PARAM_FIELDS, '')
  if (extra) return `${extra}; the runtime checks only these`
  const type = schema.type as ParamType | undefined
  if (type !== undefined && !PARAM_TYPES.includes(type)) return `type must be one of ${PARAM_TYPES.join(', ')}`
  if (schema.enum !== undefined) {
    if (!Array.isArray(schema.enum) || schema.enum.length === 0) return 'enum must be a non-empty list'
    const bad = schema.enum.find(v => !fits(type, v))
    if (bad !== undefined) return `enum value ${JSON.stringify(bad)} is not ${aType(type)}`
  }
  for (const bound of ['minimum', 'maximum']) {
    if (schema[bound] === undefined) continue
    if (type !== 'number' && type !== 'integer') return `${bound} needs type number or integer`
    if (typeof schema[bound] !== 'number') return `${bound} must be a number`
  }
  if (schema.default !== undefined && !fits(type, schema.default)) return `default is not ${aType(type)}`
  const notString = nonString(schema, ['title', 'description'])
  return notString && `${notString} must be a string`
}

const aType = (type: ParamType | undefined) => (type === 'integer' ? 'an integer' : type ? `a ${type}` : 'a scalar')

/** Whether a JSON value is of the param type (any scalar when the type is not given). */
function fits(type: ParamType | undefined, v: unknown): boolean {
  if (type === 'string') return typeof v === 'string'
  if (type === 'number') return typeof v === 'number'
  if (type === 'integer') return Number.isInteger(v)
  if (type === 'boolean') return typeof v === 'boolean'
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
}

/** A validated file as a Skill, defaults filled in. */
function withDefaults(raw: Json): Skill {
  const input = raw.input as { type: string | InputType[]; schema?: Json } | undefined
  const params = (raw.params ?? { type: 'object' }) as ParamsSchema
  return {
    name: raw.name as string,
    about: (raw.about as string | undefined) ?? '',
    version: (raw.version as string | undefined) ?? '1',
    input: {
      type: input ? (typeof input.type === 'string' ? [input.type as InputType] : input.type) : INPUT_TYPES,
      ...(input?.schema && { schema: input.schema }),
    },
    params: { ...params, properties: params.properties ?? {} },
    models: (raw.models as string[] | undefined) ?? [],
    features: (raw.features as string[] | undefined) ?? [],
    ...(raw.lud16 !== undefined && { lud16: raw.lud16 as string }),
    ...(raw.picture !== undefined && { picture: raw.picture as string }),
  }
}

/** The skill of an agent started without --skill: every input type, any params, named after its processor's type. */
export function defaultSkill(kinds: number[], processorDescribe: string): Skill {
  // Only the processor's type is published: a command line or a service URL may hold secrets or internal addresses.
  const model = processorDescribe.startsWith('ollama:') ? processorDescribe.slice(7).split('@')[0] : undefined
  const how = model ? `the ollama model ${model}` : `an ${processorDescribe.split(':')[0]} processor`
  return {
    name: 'agora-agent',
    about: `Runs jobs of kind ${kinds.join(', ')} with ${how}`,
    version: '1',
    input: { type: INPUT_TYPES },
    params: { type: 'object', properties: {} },
    models: model ? [model] : [],
    features: [],
  }
}

/** Why the job's input types are refused (`input type "url" is not accepted ...`), or undefined. */
export function checkInputs(skill: Skill, inputs: readonly { type: string }[]): string | undefined {
  const bad = inputs.find(i => !skill.input.type.includes(i.type as InputType))
  return bad && `input type "${bad.type}" is not accepted (accepted: ${skill.input.type.join(', ')})`
}

/** Why the job's params are refused (the agent sends it as `error` feedback), or undefined when they pass. */
export function checkParams(skill: Skill, params: Record<string, string>): string | undefined {
  const { properties, required = [], additionalProperties } = skill.params
  const missing = required.find(name => !Object.hasOwn(params, name))
  if (missing !== undefined) return `param ${missing} is required`
  for (const [name, value] of Object.entries(params)) {
    if (Object.hasOwn(properties, name)) {
      const problem = valueProblem(properties[name]!, value)
      if (problem) return `param ${name} ${problem}; got "${value}"`
    } else if (additionalProperties === false) {
      return `param ${name} is not accepted (accepted: ${Object.keys(properties).join(', ') || 'none'})`
    }
  }
  return undefined
}

const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
const INTEGER = /^-?\d+$/

/** What is wrong with a param's string value under its schema, or undefined. */
function valueProblem(schema: ParamSchema, raw: string): string | undefined {
  let value: Scalar = raw
  if (schema.type === 'number' || schema.type === 'integer') {
    if (!(schema.type === 'number' ? NUMBER : INTEGER).test(raw))
      return `must be ${schema.type === 'number' ? 'a number' : 'an integer'}`
    value = Number(raw)
  } else if (schema.type === 'boolean') {
    if (raw !== 'true' && raw !== 'false') return 'must be true or false'
    value = raw === 'true'
  }
  if (schema.enum && !schema.enum.some(e => e === value || String(e) === raw)) {
    return `must be one of ${schema.enum.join(', ')}`
  }
  if (schema.minimum !== undefined && (value as number) < schema.minimum) return `must be at least ${schema.minimum}`
  if (schema.maximum !== undefined && (value as number) > schema.maximum) return `must be at most ${schema.maximum}`
  return undefined
}

/** The 31990 content: `{ name, about, picture?, lud16?, skill }`; extra.lud16 (the agent's flag) wins over the file's. */
export function handlerContent(skill: Skill, extra: { lud16?: string }): string {
  const { name, about, picture, lud16, ...rest } = skill
  const address = extra.lud16 ?? lud16
  return JSON.stringify({
    name,
    about,
    ...(picture !== undefined && { picture }),
    ...(address !== undefined && { lud16: address }),
    skill: rest,
  })
}
