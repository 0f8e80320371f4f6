// `agora wallet mint|balance|send|receive|redeem|info`: the local Cashu wallet (proofs in a 0600 file).
import { ClientError } from '../errors.js'
import { redeemRuling } from '../verbs/escrow.js'
import { walletOf } from '../verbs/session.js'
import { connect, CONNECTION, logger, sessionOf } from './common.js'
import { int, readOptions, str, type Spec } from './options.js'

const WALLET_USAGE = `agora wallet mint SATS --mint URL [--timeout S] | balance | send SATS --mint URL | receive TOKEN
    | redeem JOB | info   [--wallet FILE]`

const SPEC: Spec = { ...CONNECTION, wallet: { type: 'string' }, mint: { type: 'string' }, timeout: { type: 'string' } }

export async function walletCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = readOptions(argv, SPEC)
  const [verb, arg] = positionals
  if (v['help'] || !verb) {
    console.log(WALLET_USAGE)
    return 0
  }
  const wallet = await walletOf(str(v, 'wallet'))()
  const log = logger(v, 'wallet')
  const sats = () => {
    if (!arg || !/^[1-9]\d*$/.test(arg)) throw new ClientError(`wallet ${verb} needs an amount in sats`, 2)
    return Number(arg)
  }
  switch (verb) {
    case 'mint': {
      const mint = str(v, 'mint', true)
      const { quote, bolt11 } = await wallet.mintQuote(mint, sats())
      console.log(bolt11)
      log(`pay this invoice; waiting for the mint to see it paid`)
      const got = await wallet.waitMinted(mint, quote, sats(), {
        timeoutMs: int(v, 'timeout', { fallback: 600 })! * 1000,
        pollMs: 1000,
      })
      log(`minted ${got} sats; balance ${wallet.total()} sats`)
      return 0
    }
    case 'balance':
      for (const [mint, n] of Object.entries(wallet.balance())) console.log(`${n}\t${mint}`)
      console.log(`${wallet.total()}\ttotal`)
      return 0
    case 'send':
      console.log(await wallet.send(str(v, 'mint', true), sats()))
      return 0
    case 'receive':
      if (!arg) throw new ClientError('wallet receive needs a token', 2)
      log(`received ${await wallet.receive(arg)} sats`)
      return 0
    case 'info':
      console.log(JSON.stringify({ cashu_pubkey: wallet.cashuPubkey(), balance: wallet.balance() }))
      return 0
    case 'redeem': {
      if (!arg) throw new ClientError('wallet redeem needs the job id', 2)
      const pool = await connect(v, log)
      try {
        return await redeemRuling(sessionOf(pool, v, log, int(v, 'timeout', { fallback: 60 })! * 1000), arg)
      } finally {
        pool.close()
      }
    }
  }
  throw new ClientError(`unknown wallet verb "${verb}"\n${WALLET_USAGE}`, 2)
}
