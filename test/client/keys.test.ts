import t from 'tap'
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bytesToHex, hexToBytes } from '@noble/curves/utils.js'
import { npubEncode, nsecEncode } from 'nostr-tools/nip19'
import { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure'
import { ClientError } from '../../client/errors.js'
import { loadKeyFile, parsePubkey, signerFrom, signingReady } from '../../client/keys.js'
import { tempDir } from '../helpers/relay.js'

/** A secret key, its hex, its nsec and its pubkey. */
function key() {
  const sk = generateSecretKey()
  return { hex: bytesToHex(sk), nsec: nsecEncode(sk), pubkey: getPublicKey(sk) }
}

/** Writes `text` to a fresh key file with `mode` and returns its path. */
function keyFileWith(t: Parameters<typeof tempDir>[0], text: string, mode = 0o600): string {
  const file = join(tempDir(t, 'agora-keys-'), 'key')
  writeFileSync(file, text, { mode })
  chmodSync(file, mode) // the umask may have cleared bits the test asks for
  return file
}

t.test('a missing key file is created with mode 0600 and loads the same key again', async t => {
  const file = join(tempDir(t, 'agora-keys-'), 'nested', 'dir', 'key')
  const first = loadKeyFile(file, { create: true })
  t.equal(statSync(file).mode & 0o777, 0o600, 'only the owner may read or write it')
  t.match(readFileSync(file, 'utf8'), /^[0-9a-f]{64}\n$/, 'the file holds the secret as hex')
  t.match(first.pubkey, /^[0-9a-f]{64}$/)
  const again = loadKeyFile(file, { create: true })
  t.equal(again.pubkey, first.pubkey, 'a second load reads the key written by the first')
  t.equal(again.secretHex, first.secretHex)
})

t.test('a missing key file without create is refused, saying it does not exist', async t => {
  const file = join(tempDir(t, 'agora-keys-'), 'absent')
  t.throws(() => loadKeyFile(file), new ClientError(`key file ${file} does not exist`))
  t.throws(() => loadKeyFile(file, { create: false }), { name: 'ClientError', message: /does not exist/ })
})

t.test('a key file others can read is refused with the chmod advice', async t => {
  for (const mode of [0o640, 0o604, 0o644]) {
    const file = keyFileWith(t, key().hex, mode)
    t.throws(
      () => loadKeyFile(file),
      new ClientError(`key file ${file} is readable by others: chmod 600 it`),
      `mode ${mode.toString(8)} is refused`,
    )
    chmodSync(file, 0o600)
    t.ok(loadKeyFile(file).pubkey, 'the same file loads after chmod 600')
  }
})

t.test('a key file holding hex or an nsec loads that key, surrounding whitespace allowed', async t => {
  const k = key()
  t.equal(loadKeyFile(keyFileWith(t, `${k.hex}\n`)).pubkey, k.pubkey, 'hex')
  t.equal(loadKeyFile(keyFileWith(t, `  ${k.hex.toUpperCase()}  \n`)).secretHex, k.hex, 'upper-case hex, lowered')
  t.equal(loadKeyFile(keyFileWith(t, `${k.nsec}\n`)).pubkey, k.pubkey, 'nsec')
  t.equal(loadKeyFile(keyFileWith(t, k.nsec)).secretHex, k.hex, 'an nsec gives the same secret as its hex')
})

t.test('a key file holding garbage gives a ClientError naming the file and the expected format', async t => {
  const cases: [string, string][] = [
    ['not a key at all', 'a key must be 64 hex characters or an nsec'],
    ['', 'a key must be 64 hex characters or an nsec'],
    ['ab'.repeat(31), 'a key must be 64 hex characters or an nsec'],
    ['nsec1notbech32atall', 'the key is not a valid nsec'],
  ]
  for (const [text, reason] of cases) {
    const file = keyFileWith(t, text)
    t.throws(() => loadKeyFile(file), new ClientError(`key file ${file}: ${reason}`), JSON.stringify(text))
  }
})

t.test('a signer signs events that verify under its pubkey', async t => {
  const k = key()
  const s = signerFrom(k.nsec)
  const e = s.sign({ kind: 1, created_at: 1_700_000_000, tags: [], content: 'hello' })
  t.equal(e.pubkey, k.pubkey)
  t.ok(verifyEvent(e), 'the signature verifies')
  t.throws(() => signerFrom('npub1' + 'q'.repeat(58)), ClientError, 'an npub is no secret')
})

t.test('once the fast signer has loaded, its events verify and carry the same id as pure JS gives', async t => {
  await signingReady
  const k = key()
  const template = { kind: 5100, created_at: 1_700_000_000, tags: [['i', 'ünïcode ✓', 'text']], content: 'x' }
  const fast = signerFrom(k.nsec).sign(template)
  t.ok(verifyEvent(fast), 'the signature verifies')
  t.equal(fast.id, finalizeEvent(template, hexToBytes(signerFrom(k.nsec).secretHex)).id, 'the same id')
})

t.test('parsePubkey reads hex and npub and refuses anything else with a clear message', async t => {
  const k = key()
  t.equal(parsePubkey(k.pubkey), k.pubkey, 'hex')
  t.equal(parsePubkey(` ${k.pubkey.toUpperCase()} `), k.pubkey, 'upper-case hex, trimmed')
  t.equal(parsePubkey(npubEncode(k.pubkey)), k.pubkey, 'npub')
  for (const bad of ['garbage', k.pubkey.slice(1), 'npub1garbage', k.nsec]) {
    t.throws(
      () => parsePubkey(bad),
      new ClientError(`"${bad}" is not a pubkey (64 hex characters or an npub)`),
      `refuses ${bad.slice(0, 12)}`,
    )
  }
})
