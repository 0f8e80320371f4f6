// The client commands of the `agora` CLI: the provider agent, the customer's job verbs, the wallet, the market's
// social verbs, and the MCP server. Every failure a user can act on is one line and an exit code, never a stack trace.
import { ClientError } from '../errors.js'
import { agentCommand } from './agent.js'
import { jobCommand } from './job.js'
import { mcpCommand } from './mcp.js'
import { workflowCommand } from './workflow.js'
import { providersCommand, reportCommand, reviewCommand, trustCommand } from './social.js'
import { walletCommand } from './wallet.js'

const COMMANDS: Record<string, (argv: string[], version: string) => Promise<number>> = {
  agent: agentCommand,
  job: jobCommand,
  workflow: workflowCommand,
  review: reviewCommand,
  trust: trustCommand,
  report: reportCommand,
  providers: providersCommand,
  wallet: walletCommand,
  mcp: mcpCommand,
}

/** Runs one client command and exits with its code. */
export async function runClient(argv: string[], version: string): Promise<void> {
  const [name, ...rest] = argv
  let code: number
  try {
    code = await COMMANDS[name!]!(rest, version)
  } catch (err) {
    if (!(err instanceof ClientError)) throw err
    process.stderr.write(`agora ${name}: ${err.message}\n`)
    code = err.exitCode
  }
  process.exit(code)
}
