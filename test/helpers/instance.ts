// For the tests of one relay per port and per data dir: the refusals they expect, and how long a start may take.

/** How long `agora start` may take to listen on a loaded machine. */
export const START_MS = 60_000

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Matches the refusal of data dir `dir` held by `agora start` (or an in-process relay) with pid `pid`. */
export const heldBy = (dir: string, pid: number) =>
  new RegExp(`data dir ${escape(dir)} is in use by pid ${pid} \\(agora start since \\d{4}-`)

/** Matches the refusal a process that lost a race for data dir `dir` gives. */
export const inUse = (dir: string) =>
  new RegExp(`data dir ${escape(dir)} is in use by (pid \\d+|another process starting now)`)
