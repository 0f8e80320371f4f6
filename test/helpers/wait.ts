/** Resolves after `ms` milliseconds; used only to prove that nothing arrives in a window. */
export const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))
