// The skill descriptor: reading and validating a skill file, the default skill, the params check and the 31990
// content.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import {
  checkInputs,
  checkParams,
  defaultSkill,
  handlerContent,
  loadSkill,
  type Skill,
} from '../../../client/agent/skill.js'
import { tempDir } from '../../helpers/relay.js'

const TRANSLATOR = {
  name: 'translator',
  about: 'Translates text',
  version: '2',
  input: { type: 'text', schema: { type: 'string', maxLength: 5000 } },
  params: {
    type: 'object',
    properties: {
      lang: { type: 'string', enum: ['de', 'fr'], description: 'target language' },
      words: { type: 'integer', minimum: 1, maximum: 500 },
      temperature: { type: 'number', minimum: 0, maximum: 2, default: 0.7 },
      formal: { type: 'boolean' },
      tone: {},
    },
    required: ['lang'],
  },
  models: ['llama3'],
  features: ['translation', 'german'],
  lud16: 'translator@ln.example',
  picture: 'https://example.com/t.png',
}

/** Writes value (JSON unless it is a string) to a file in a fresh temp dir and returns its path. */
function skillFile(t: Parameters<typeof tempDir>[0], value: unknown): string {
  const file = join(tempDir(t), 'skill.json')
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value))
  return file
}

t.test('loadSkill', async t => {
  t.test('reads a full skill file, a lone input type becoming a list', async t => {
    const skill = loadSkill(skillFile(t, TRANSLATOR))
    t.same(skill, { ...TRANSLATOR, input: { type: ['text'], schema: TRANSLATOR.input.schema } })
  })

  t.test('fills in the defaults around a lone name', async t => {
    t.same(loadSkill(skillFile(t, { name: 'echo' })), {
      name: 'echo',
      about: '',
      version: '1',
      input: { type: ['text', 'url', 'event', 'job'] },
      params: { type: 'object', properties: {} },
      models: [],
      features: [],
    })
  })

  t.test('says a file that cannot be read is missing', async t => {
    const file = join(tempDir(t), 'none.json')
    t.throws(() => loadSkill(file), { name: 'ClientError', message: `skill file ${file}: cannot be read: ENOENT` })
  })

  const param = (schema: unknown) => ({ name: 'x', params: { type: 'object', properties: { p: schema } } })
  const bad: [string, unknown, string | RegExp][] = [
    ['text that is not JSON', '{ name: x', /^not JSON: /],
    ['a list', ['translator'], 'it must be a JSON object'],
    ['no name', { about: 'x' }, 'name is missing (a non-empty string)'],
    ['a blank name', { name: '  ' }, 'name is missing (a non-empty string)'],
    ['an unknown field', { name: 'x', feature: ['y'] }, /^unknown field "feature" \(known: name, about, /],
    ['a number for version', { name: 'x', version: 1 }, 'version must be a string'],
    ['features that are not strings', { name: 'x', features: [1] }, 'features must be a list of strings'],
    ['a lud16 without a domain', { name: 'x', lud16: 'me' }, 'lud16 "me" is not a lightning address (name@domain)'],
    ['a picture that is not a URL', { name: 'x', picture: 'a.png' }, 'picture "a.png" is not an http(s) URL'],
    ['an unknown input type', { name: 'x', input: { type: ['text', 'image'] } }, /input.type "image" is not/],
    [
      'an empty input type list',
      { name: 'x', input: { type: [] } },
      /^input.type must be an input type or a non-empty/,
    ],
    ['a bare input type string', { name: 'x', input: 'text' }, /^input must be an object/],
    ['params that are not an object schema', { name: 'x', params: { type: 'array' } }, /^params must be a JSON schema/],
    ['params as a plain map', { name: 'x', params: { lang: 'string' } }, /^params must be a JSON schema/],
    [
      'an unknown params keyword',
      { name: 'x', params: { type: 'object', allOf: [] } },
      /^params: unknown field "allOf"/,
    ],
    [
      'a required param that is not declared',
      { name: 'x', params: { type: 'object', properties: {}, required: ['lang'] } },
      'params.required names "lang", which params.properties does not define',
    ],
    [
      'an additionalProperties schema',
      { name: 'x', params: { type: 'object', additionalProperties: {} } },
      'params.additionalProperties must be true or false',
    ],
    ['a param type outside the subset', param({ type: 'array' }), /^params.properties.p: type must be one of string, /],
    [
      'an unchecked param keyword',
      param({ type: 'string', pattern: '^a' }),
      /unknown field "pattern".*checks only these$/,
    ],
    ['an enum value of another type', param({ type: 'integer', enum: [1, 1.5] }), 'enum value 1.5 is not an integer'],
    ['an empty enum', param({ enum: [] }), 'params.properties.p: enum must be a non-empty list'],
    ['a minimum on a string', param({ type: 'string', minimum: 1 }), 'minimum needs type number or integer'],
    ['a default of another type', param({ type: 'boolean', default: 'yes' }), 'default is not a boolean'],
  ]
  for (const [what, content, message] of bad) {
    t.test(`refuses ${what}, naming the file`, async t => {
      const file = skillFile(t, content)
      const err = (() => {
        try {
          loadSkill(file)
        } catch (e) {
          return e as Error
        }
      })()
      t.equal(err?.name, 'ClientError')
      t.ok(err?.message.startsWith(`skill file ${file}: `), 'the message starts with the file')
      t.match(err?.message.slice(`skill file ${file}: `.length), message)
    })
  }
})

t.test('checkParams', async t => {
  const skill = loadSkill(skillFile(t, TRANSLATOR))
  const cases: [Record<string, string>, string | undefined][] = [
    [{ lang: 'de' }, undefined],
    [{ lang: 'fr', words: '500', temperature: '1.5', formal: 'true', tone: 'warm', extra: 'kept' }, undefined],
    [{ lang: 'de', temperature: '.5e0', words: '-0' }, 'param words must be at least 1; got "-0"'],
    [{}, 'param lang is required'],
    [{ words: '3' }, 'param lang is required'],
    [{ lang: 'es' }, 'param lang must be one of de, fr; got "es"'],
    [{ lang: 'de', words: '2.5' }, 'param words must be an integer; got "2.5"'],
    [{ lang: 'de', words: '' }, 'param words must be an integer; got ""'],
    [{ lang: 'de', words: '501' }, 'param words must be at most 500; got "501"'],
    [{ lang: 'de', temperature: 'hot' }, 'param temperature must be a number; got "hot"'],
    [{ lang: 'de', temperature: 'Infinity' }, 'param temperature must be a number; got "Infinity"'],
    [{ lang: 'de', temperature: '0x1' }, 'param temperature must be a number; got "0x1"'],
    [{ lang: 'de', formal: 'yes' }, 'param formal must be true or false; got "yes"'],
  ]
  for (const [params, reason] of cases) {
    t.equal(checkParams(skill, params), reason, JSON.stringify(params))
  }

  t.test('compares enum values as the param type reads them', async t => {
    const enums = loadSkill(
      skillFile(t, {
        name: 'x',
        params: { type: 'object', properties: { n: { type: 'number', enum: [1, 2.5] }, b: { enum: [true, 3] } } },
      }),
    )
    t.equal(checkParams(enums, { n: '1.0' }), undefined)
    t.equal(checkParams(enums, { n: '2.50', b: 'true' }), undefined)
    t.equal(checkParams(enums, { b: '3' }), undefined)
    t.equal(checkParams(enums, { n: '3' }), 'param n must be one of 1, 2.5; got "3"')
  })

  t.test('refuses params not declared when additionalProperties is false', async t => {
    const closed = loadSkill(
      skillFile(t, { ...TRANSLATOR, params: { ...TRANSLATOR.params, additionalProperties: false } }),
    )
    t.equal(checkParams(closed, { lang: 'de', words: '3' }), undefined)
    t.equal(
      checkParams(closed, { lang: 'de', style: 'x' }),
      'param style is not accepted (accepted: lang, words, temperature, formal, tone)',
    )
  })

  t.test('does not take names of Object.prototype for declared params', async t => {
    const closed = loadSkill(skillFile(t, { name: 'x', params: { type: 'object', additionalProperties: false } }))
    t.equal(checkParams(closed, { constructor: 'x' }), 'param constructor is not accepted (accepted: none)')
  })
})

t.test('checkInputs accepts the skill input types and names the first other one', async t => {
  const skill = loadSkill(skillFile(t, { name: 'x', input: { type: ['text', 'url'] } }))
  t.equal(checkInputs(skill, []), undefined)
  t.equal(checkInputs(skill, [{ type: 'url' }, { type: 'text' }]), undefined)
  t.equal(
    checkInputs(skill, [{ type: 'text' }, { type: 'event' }]),
    'input type "event" is not accepted (accepted: text, url)',
  )
})

t.test('defaultSkill', async t => {
  t.test('accepts every input and any params, and names only the processor type', async t => {
    const skill = defaultSkill([5100, 5302], 'exec:./translate.sh --key s3cret')
    t.same(skill, {
      name: 'agora-agent',
      about: 'Runs jobs of kind 5100, 5302 with an exec processor',
      version: '1',
      input: { type: ['text', 'url', 'event', 'job'] },
      params: { type: 'object', properties: {} },
      models: [],
      features: [],
    })
    t.equal(checkParams(skill, { anything: 'goes' }), undefined)
    t.equal(checkInputs(skill, [{ type: 'job' }]), undefined)
  })

  t.test('lists the model of an ollama processor', async t => {
    const skill = defaultSkill([5100], 'ollama:qwen2.5:7b@http://127.0.0.1:11434')
    t.equal(skill.about, 'Runs jobs of kind 5100 with the ollama model qwen2.5:7b')
    t.same(skill.models, ['qwen2.5:7b'])
  })

  t.test('names an http processor without its URL', async t => {
    t.equal(defaultSkill([5000], 'https://10.0.0.5/run').about, 'Runs jobs of kind 5000 with an https processor')
  })
})

t.test('handlerContent', async t => {
  const skill: Skill = loadSkill(skillFile(t, TRANSLATOR))

  t.test('puts the metadata on top and the capabilities under skill', async t => {
    t.same(JSON.parse(handlerContent(skill, {})), {
      name: 'translator',
      about: 'Translates text',
      picture: 'https://example.com/t.png',
      lud16: 'translator@ln.example',
      skill: {
        version: '2',
        input: { type: ['text'], schema: TRANSLATOR.input.schema },
        params: TRANSLATOR.params,
        models: ['llama3'],
        features: ['translation', 'german'],
      },
    })
  })

  t.test("prefers the agent's lightning address to the file's", async t => {
    t.equal(JSON.parse(handlerContent(skill, { lud16: 'agent@pay.example' })).lud16, 'agent@pay.example')
  })

  t.test('leaves out picture and lud16 when neither is known', async t => {
    const content = JSON.parse(handlerContent(defaultSkill([5100], 'exec:cat'), {}))
    t.same(Object.keys(content), ['name', 'about', 'skill'])
  })
})
