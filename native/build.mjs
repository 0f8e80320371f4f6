// Install step (package.json "install"): builds the native verifier addon when the system libsecp256k1 is
// present, and otherwise says so in one line. It never fails the install: the relay then uses nostr-wasm.
//   SECP256K1_HEADER=/path/secp256k1_schnorrsig.h  look for the header there instead (a missing file skips);
//   node native/build.mjs --verbose                shows node-gyp's output.
import { Buffer } from 'node:buffer'
import { spawnSync } from 'node:child_process'
import console from 'node:console'
import { existsSync, realpathSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const verbose = process.argv.includes('--verbose')
// eslint-disable-next-line no-restricted-properties -- an install script, not relay config
const env = process.env

function header() {
  if (env.SECP256K1_HEADER) return existsSync(env.SECP256K1_HEADER) ? env.SECP256K1_HEADER : undefined
  return ['/usr/include', '/usr/local/include']
    .map(dir => join(dir, 'secp256k1_schnorrsig.h'))
    .find(file => existsSync(file))
}

/** node-gyp's script: the project's own, the one npm runs scripts with, or the one bundled with npm. */
function nodeGyp() {
  const script = join('node-gyp', 'bin', 'node-gyp.js')
  const npmDir = join(dirname(realpathSync(process.execPath)), '..', 'lib', 'node_modules', 'npm')
  const candidates = [
    join(here, '..', 'node_modules', script),
    env.npm_config_node_gyp,
    env.npm_execpath && join(dirname(env.npm_execpath), '..', 'node_modules', script),
    join(npmDir, 'node_modules', script),
  ]
  return candidates.find(file => file && file.endsWith('.js') && existsSync(file))
}

function skip(why) {
  console.warn(`agora: native verifier not built (${why}); the relay will use nostr-wasm`)
  process.exit(0)
}

// BIP-340 test vector 0: a valid signature, then the same with its last byte changed.
function selfTest(addon) {
  const pub = Buffer.from('f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9', 'hex')
  const sig = Buffer.from(
    'e907831f80848d1069a5371b402410364bdf1c5f8307b0084c55f1ce2dca8215' +
      '25f66a4a85ea8b71e482a74f382d2ce5ebeee8fdb2172f477df4900d310536c0',
    'hex',
  )
  const msg = Buffer.alloc(32)
  if (addon.verify(sig, msg, pub) !== true) return 'a valid signature did not verify'
  sig[63] ^= 1
  if (addon.verify(sig, msg, pub) !== false) return 'an invalid signature verified'
  return undefined
}

try {
  if (!header()) {
    console.log('agora: libsecp256k1 not found, native verifier skipped (install libsecp256k1-dev to enable it)')
    process.exit(0)
  }
  const gyp = nodeGyp()
  if (!gyp) skip('node-gyp not found')
  // Node's own headers when they are installed next to it (distro packages, official tarballs), so that
  // node-gyp need not download them; npm passes its nodedir setting as npm_config_nodedir.
  const prefix = dirname(dirname(realpathSync(process.execPath)))
  const nodedir =
    !env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'common.gypi')) ? [`--nodedir=${prefix}`] : []
  const run = spawnSync(process.execPath, [gyp, 'rebuild', ...nodedir], {
    cwd: here,
    stdio: verbose ? 'inherit' : 'pipe',
    encoding: 'utf8',
    timeout: 5 * 60_000,
  })
  if (run.error) skip(`node-gyp: ${run.error.message}`)
  if (run.status !== 0) {
    const output = `${run.stderr ?? ''}\n${run.stdout ?? ''}`.split('\n')
    const first = output.find(line => /\berror\b/i.test(line))?.trim()
    skip(`node-gyp failed${first ? `: ${first}` : ''}; run node native/build.mjs --verbose to see why`)
  }
  const failed = selfTest(createRequire(import.meta.url)('./build/Release/agora_secp256k1.node'))
  if (failed) skip(`self-test: ${failed}`)
  console.log('agora: native verifier built (libsecp256k1)')
} catch (err) {
  skip(err instanceof Error ? err.message.split('\n')[0] : String(err))
}
