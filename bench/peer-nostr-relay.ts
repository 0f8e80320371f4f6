#!/usr/bin/env node
// A peer relay for side-by-side runs: @nostr-relay/core (TypeScript, SQLite through
// @nostr-relay/event-repository-sqlite, signatures checked with @noble/curves), one of the JS relays the
// throughput anchors name, served over `ws` on loopback. Messages skip @nostr-relay/validator's schema
// checks, which can only make it faster than a production deployment of it.
//   node dist/bench/peer-nostr-relay.js [--port PORT] [--data DIR]
// prints `listening ws://127.0.0.1:PORT pid PID`; then `npm run bench -- <scenario> --url ... --pid PID`.
import { LogLevel } from '@nostr-relay/common'
import { NostrRelay } from '@nostr-relay/core'
import { EventRepositorySqlite } from '@nostr-relay/event-repository-sqlite'
import Database from 'better-sqlite3'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { WebSocketServer } from 'ws'

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, data: { type: 'string' } } })
const dir = values.data ?? mkdtempSync(join(tmpdir(), 'peer-nostr-relay-'))
const db = new Database(join(dir, 'nostr.db'))
db.pragma('journal_mode = WAL')
const repository = new EventRepositorySqlite(db)
await repository.init() // creates its tables
const relay = new NostrRelay(repository, { logLevel: LogLevel.ERROR })

const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(values.port) })
wss.on('connection', (ws, req) => {
  relay.handleConnection(ws, req.socket.remoteAddress)
  ws.on('message', data => {
    let msg: unknown
    try {
      msg = JSON.parse(data.toString())
    } catch {
      return
    }
    void relay.handleMessage(ws, msg as Parameters<NostrRelay['handleMessage']>[1])
  })
  ws.on('close', () => relay.handleDisconnect(ws))
})
wss.on('listening', () => {
  const addr = wss.address()
  if (typeof addr === 'object' && addr)
    console.log(`listening ws://127.0.0.1:${addr.port} pid ${process.pid} data ${dir}`)
})
const stop = () => wss.close(() => void relay.destroy().then(() => process.exit(0)))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
