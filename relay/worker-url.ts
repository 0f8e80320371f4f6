// Where a worker thread's module is: compiled runs load the .js file; tests running the TypeScript
// sources load the .ts one.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The URL of `<name>.js` beside the module at `base` (its import.meta.url), or of `<name>.ts` from source. */
export function workerUrl(base: string, name: string): URL {
  const js = new URL(`./${name}.js`, base)
  return existsSync(fileURLToPath(js)) ? js : new URL(`./${name}.ts`, base)
}
