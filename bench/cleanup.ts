// Child processes and temp dirs that must not outlive the process that made them. Teardowns do not run when a
// process is killed (tap ends a test file past its timeout with SIGALRM, then SIGKILL), but signal-exit's handlers
// run synchronously on exit and on every catchable signal, so these go even then.
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onExit } from 'signal-exit'

/** SIGKILLs `child` if this process ends (or is killed) while the child still runs. */
export function ownChild(child: ChildProcess): void {
  const remove = onExit(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  child.once('exit', () => remove())
}

/** A fresh temp dir; `remove()` deletes it, and so does this process ending first. */
export function ownTempDir(prefix: string): { readonly dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const rm = () => rmSync(dir, { recursive: true, force: true })
  const unregister = onExit(rm)
  return {
    dir,
    remove() {
      unregister()
      rm()
    },
  }
}
