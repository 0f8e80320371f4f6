// For the tests of one relay per port and per data dir.

/** How long `agora start` may take to listen on a loaded machine. */
export const START_MS = 60_000
