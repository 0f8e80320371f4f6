// GET /skill.md: how to use this relay, in markdown for agents and people. Written at each request from the effective
// config and what the active policies state (the NIP-11 inputs), so it follows reloads and repeats no rule by hand.
import type { Config } from '../config/schema.js'
import { makeFacts, type SkillInputs } from './skill/facts.js'
import { marketSection } from './skill/market.js'
import { relaySection, rulesSection } from './skill/rules.js'
import { rawEvents } from './skill/events.js'
import { commandLine, mcp } from './skill/tools.js'

export { publicUrl, skillUrl, type SkillInputs } from './skill/facts.js'

/** The /skill.md document of a relay with this effective config. */
export function buildSkill(cfg: Config, x: SkillInputs): string {
  const f = makeFacts(cfg, x)
  const waysIn = ['## Three ways in', '', ...rawEvents(f), ...commandLine(f), ...mcp(f)]
  return [...relaySection(f), ...rulesSection(f), ...marketSection(f), ...waysIn].join('\n')
}
