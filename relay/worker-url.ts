// Where a worker thread's module is: compiled runs load the .js file; tests running the TypeScript
// sources load the .ts one.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The URL of `relay/<name>.js`, or of `<name>.ts` when running from source. */
export function workerUrl(name: string): URL {
  const js = new URL(`./${name}.js`, import.meta.url)
  return existsSync(fileURLToPath(js)) ? js : new URL(`./${name}.ts`, import.meta.url)
}
