// `agora mcp`: the MCP server on stdio, for an AI agent's client to start (docs/agents.md, "MCP"). stdout carries the
// protocol, so every note goes to stderr.
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import { createMcpServer } from '../mcp/server.js'
import { CONNECTION, logger } from './common.js'
import { list, readOptions, str } from './options.js'

const MCP_USAGE = `agora mcp [--relay URL...] [--key FILE] [--wallet FILE] [--nwc URI] [--mint URL] [--quiet]
  An MCP server on stdio: the market's tools for an AI agent. Configure your MCP client to run it, e.g.
  {"mcpServers":{"agora":{"command":"npx","args":["-y","-p","agora-relay","agora","mcp","--relay","wss://relay.example.com"]}}}`

const SPEC = { ...CONNECTION, wallet: { type: 'string' }, nwc: { type: 'string' }, mint: { type: 'string' } } as const

/** Serves MCP on stdin and stdout until the client closes them (or SIGINT or SIGTERM). */
export async function mcpCommand(argv: string[], version: string): Promise<number> {
  const { values: v } = readOptions(argv, SPEC)
  if (v['help']) {
    console.log(MCP_USAGE)
    return 0
  }
  const log = logger(v, 'mcp')
  const { server, close } = createMcpServer({
    relays: list(v, 'relay'),
    key: str(v, 'key'),
    wallet: str(v, 'wallet'),
    nwc: str(v, 'nwc'),
    mint: str(v, 'mint'),
    log,
    version,
  })
  const transport = new StdioServerTransport()
  const closed = new Promise<void>(resolve => {
    transport.onclose = resolve
    process.stdin.once('end', resolve)
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  await server.connect(transport)
  log('ready')
  await closed
  close()
  await server.close()
  return 0
}
