#!/usr/bin/env node
// npm run bench -- <scenario> [options]: see bench/README.md.
import { run, UsageError, USAGE } from './run.js'

run(process.argv.slice(2)).then(
  () => process.exit(0),
  err => {
    if (err instanceof UsageError) {
      console.error(err.message ? `bench: ${err.message}\n\n${USAGE}` : USAGE)
      process.exit(2)
    }
    console.error(`bench: ${(err as Error).stack ?? err}`)
    process.exit(1)
  },
)
