// `agora mcp` as an AI agent's MCP client runs it: a child process spoken to over stdio by the SDK's own client.
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { onExit } from 'signal-exit'
import { cleanEnv, cliPath, defaultCwd, ensureBuilt, isAlive } from './cli.js'

type Teardown = { teardown(fn: () => unknown): void }

export type McpClient = {
  readonly client: Client
  /** Calls a tool; resolves with its text and whether it is a tool error (a protocol error rejects). */
  call(name: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<{ text: string; isError: boolean }>
  /** What the server wrote on stderr so far. */
  stderr(): string
}

/** Starts `agora mcp ARGS` and connects the SDK's client to it; both go when the test ends (or this process dies). */
export async function startMcp(t: Teardown, args: string[], env: Record<string, string> = {}): Promise<McpClient> {
  ensureBuilt()
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [cliPath, 'mcp', ...args],
    env: { ...(cleanEnv() as Record<string, string>), ...env },
    cwd: defaultCwd(),
    stderr: 'pipe',
  })
  let stderr = ''
  transport.stderr?.on('data', (b: Buffer) => (stderr += b.toString('utf8')))
  const client = new Client({ name: 'agora-test', version: '1' })
  await client.connect(transport)
  const pid = transport.pid
  const unregister = onExit(() => {
    if (pid !== null && isAlive(pid)) process.kill(pid, 'SIGKILL')
  })
  t.teardown(async () => {
    await client.close()
    unregister()
  })
  return {
    client,
    stderr: () => stderr,
    async call(name, args = {}, timeoutMs = 120_000) {
      const r = (await client.callTool({ name, arguments: args }, undefined, {
        timeout: timeoutMs,
      })) as CallToolResult
      const text = r.content.map(c => (c.type === 'text' ? c.text : '')).join('\n')
      return { text, isError: r.isError === true }
    },
  }
}
