import t from 'tap'
import { normaliseIp } from '../../relay/management/ip.js'

t.test('normaliseIp writes each address one way', async t => {
  const cases: [string, string][] = [
    ['127.0.0.1', '127.0.0.1'],
    [' 203.0.113.9 ', '203.0.113.9'],
    // uWS on a dual-stack socket: IPv4 as mapped IPv6, written in full.
    ['0000:0000:0000:0000:0000:ffff:7f00:0001', '127.0.0.1'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::FFFF:CB00:7109', '203.0.113.9'],
    ['0000:0000:0000:0000:0000:0000:0000:0001', '::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
  ]
  for (const [given, want] of cases) t.equal(normaliseIp(given), want, given)
})

t.test('normaliseIp refuses what is not an address', async t => {
  for (const bad of ['', 'localhost', '300.1.1.1', '1.2.3', '10.0.0.0/8', '::g', '[::1]', 'fe80::1%eth0'])
    t.equal(normaliseIp(bad), undefined, JSON.stringify(bad))
})
