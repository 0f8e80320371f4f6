// The wallet's mints: one loaded cashu-ts Wallet per mint URL, and mint failures turned into messages a user can act
// on (unreachable, an HTTP status, a refusal with its NUT error code).
import { CTSError, HttpResponseError, MintOperationError, NetworkError, Wallet } from '@cashu/cashu-ts'
import { mintUrl } from '../../nips/nip61.js'
import { ClientError } from '../errors.js'

/** A mint URL in the one form cashu-ts compares (lowercase host, no trailing slash). */
export function normaliseMint(url: string): string {
  const u = mintUrl(url)
  if (u === undefined) throw new ClientError(`"${url}" is not a mint URL (http:// or https://)`)
  return u
}

/** Runs `fn` against `mint`, reporting the mint's failures as ClientErrors. */
export async function atMint<T>(mint: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw mintFailure(mint, err) ?? err
  }
}

function mintFailure(mint: string, err: unknown): ClientError | undefined {
  // MintOperationError is an HttpResponseError: test it first.
  if (err instanceof MintOperationError)
    return new ClientError(`mint ${mint} refused: ${err.message} (code ${err.code})`)
  if (err instanceof HttpResponseError) return new ClientError(`mint ${mint} answered ${err.status} (${err.message})`)
  if (err instanceof NetworkError) return new ClientError(`mint ${mint} cannot be reached: ${networkCause(err)}`)
  if (err instanceof CTSError) return new ClientError(`mint ${mint}: ${err.message}`)
  return undefined
}

/** The system error code under a fetch failure (ECONNREFUSED, ENOTFOUND, ...), else the message. */
function networkCause(err: Error): string {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code
    if (typeof code === 'string') return code
  }
  return err.message
}

/** A loader of cashu-ts Wallets: each mint's info and keys are fetched once, and again after a failure. */
export function mintConnections(): (mint: string) => Promise<Wallet> {
  const loaded = new Map<string, Promise<Wallet>>()
  return mint => {
    let w = loaded.get(mint)
    if (!w) {
      w = atMint(mint, async () => {
        const wallet = new Wallet(mint, { unit: 'sat' })
        await wallet.loadMint()
        return wallet
      })
      loaded.set(mint, w)
      w.catch(() => loaded.delete(mint))
    }
    return w
  }
}
