/**
 * Address parsing and formatting as oxen-mq `oxenmq/address.h` defines them, with upstream
 * tests/test_address.cpp vectors.
 */
import { expect } from 'chai';
import { Address } from '../../lib/address.js';
import { OmqError, OmqErrorCode } from '../../lib/errors.js';

const PK = Buffer.from('f16ba5591039f089b42a834175093094074d0d937a79e53e5ce730f946e14b88', 'hex');
const PK_HEX = 'f16ba5591039f089b42a834175093094074d0d937a79e53e5ce730f946e14b88';
const PK_HEX_UC = PK_HEX.toUpperCase();
const PK_B32Z = '6fi4kseo88aeupbkopyzknjo1odw4dcuxjh6kx1hhhax1tzbjqry';
const PK_B32Z_UC = PK_B32Z.toUpperCase();
const PK_B64 = '8WulWRA58Im0KoNBdQkwlAdNDZN6eeU+XOcw+UbhS4g';

function expectBadAddress(s: string): void {
  try {
    new Address(s);
  } catch (err) {
    expect(err, s).to.be.instanceOf(OmqError);
    expect((err as OmqError).code, s).to.equal(OmqErrorCode.BAD_ADDRESS);
    return;
  }
  expect.fail(`expected ${JSON.stringify(s)} to be rejected`);
}

function keyOf(a: Address): Buffer {
  expect(a.pubkey).to.not.equal(undefined);
  return Buffer.from(a.pubkey!);
}

describe('lib/address', () => {
  it('parses tcp://1.2.3.4:5678 and builds Address.tcp("example.com", 80), with their zmq, full and QR forms', () => {
    const a = new Address('tcp://1.2.3.4:5678');
    expect(a.protocol).to.equal('tcp');
    expect(a.host).to.equal('1.2.3.4');
    expect(a.port).to.equal(5678);
    expect(a.curve).to.equal(false);
    expect(a.pubkey).to.equal(undefined);
    expect(a.zmqAddress()).to.equal('tcp://1.2.3.4:5678');
    expect(a.fullAddress()).to.equal('tcp://1.2.3.4:5678');
    expect(a.qrAddress()).to.equal('TCP://1.2.3.4:5678');

    const b = Address.tcp('example.com', 80);
    expect(b.host).to.equal('example.com');
    expect(b.port).to.equal(80);
    expect(b.curve).to.equal(false);
    expect(b.isTcp).to.equal(true);
    expect(b.zmqAddress()).to.equal('tcp://example.com:80');
    expect(b.fullAddress()).to.equal('tcp://example.com:80');
    expect(b.qrAddress()).to.equal('TCP://EXAMPLE.COM:80');
    expect(String(b)).to.equal('tcp://example.com:80');

    const c = new Address('tcp://[::1]:1111');
    expect(c.host).to.equal('[::1]');
    expect(c.port).to.equal(1111);
    expect(c.qrAddress()).to.equal('TCP://$::1$:1111');
  });

  it('rejects malformed tcp addresses', () => {
    for (const s of [
      'tcp://1:1:1',
      'tcpz://localhost:123',
      'tcp://abc',
      'tcpz://localhost:0',
      'tcp://localhost:0',
      'tcpz://[::1:1080',
      'tcp://[::1:1080',
      'tcp://[::1]',
      'tcp://[::1]1080',
      'tcp://[::1$:1080',
      'tcp://:80',
      'tcp://host:',
      'tcp://host:-1',
      'tcp://host:+1',
      'tcp://host:65536',
      'tcp://host:99999999999999999999',
      'tcp://host:80/',
      'tcp://host:80x',
      'tcp://',
      '://host:80',
      'tcp:/host:80',
      'host:80',
      'inproc://foo',
      'Tcp://host:80',
    ]) {
      expectBadAddress(s);
    }
  });

  it('accepts ports 1 and 65535 (and leading zeros, like upstream)', () => {
    expect(new Address('tcp://h:1').port).to.equal(1);
    expect(new Address('tcp://h:65535').port).to.equal(65535);
    expect(new Address('tcp://h:0080').port).to.equal(80);
    expect(new Address('tcp://*:4567').host).to.equal('*');
  });

  it('ipc addresses', () => {
    const a = new Address('ipc:///path/to/foo');
    expect(a.protocol).to.equal('ipc');
    expect(a.isIpc).to.equal(true);
    expect(a.socket).to.equal('/path/to/foo');
    expect(a.curve).to.equal(false);
    expect(a.zmqAddress()).to.equal('ipc:///path/to/foo');
    expect(a.fullAddress()).to.equal('ipc:///path/to/foo');
    expect(() => a.qrAddress()).to.throw(OmqError);

    const b = Address.ipc('../foo');
    expect(b.socket).to.equal('../foo');
    expect(b.curve).to.equal(false);
    expect(b.zmqAddress()).to.equal('ipc://../foo');
    expect(b.fullAddress()).to.equal('ipc://../foo');
    expectBadAddress('ipc://');
  });

  it('hex, base32z, base64 and QR keys decode to the same key and re-encode', () => {
    const a = new Address('tcp+curve://a:1/' + PK_HEX);
    const b = new Address('curve://a:1/' + PK_B32Z);
    const c = new Address('curve://a:1/' + PK_B64);
    const d = new Address('CURVE://A:1/' + PK_B32Z_UC);
    const c2 = new Address('curve://a:1/' + PK_B64 + '=');
    expect(a.curve).to.equal(true);
    expect(a.host).to.equal('a');
    expect(a.port).to.equal(1);
    for (const x of [a, b, c, d, c2]) {
      expect(x.curve).to.equal(true);
      expect(x.host).to.equal('a');
      expect(keyOf(x).equals(PK)).to.equal(true);
    }
    expect(d.fullAddress('hex')).to.equal('curve://a:1/' + PK_HEX);
    expect(c.fullAddress('base32z')).to.equal('curve://a:1/' + PK_B32Z);
    expect(b.fullAddress('BASE32Z')).to.equal('curve://a:1/' + PK_B32Z_UC);
    expect(a.fullAddress('base64')).to.equal('curve://a:1/' + PK_B64);
    expect(a.fullAddress()).to.equal('curve://a:1/' + PK_B32Z);
    expect(a.zmqAddress()).to.equal('tcp://a:1');
    expect(a.equals(b) && b.equals(c) && c.equals(d)).to.equal(true);
  });

  it('rejects curve tcp addresses with a bad, short, long or missing key', () => {
    for (const s of [
      'curve://a:1',
      'curve://a:1/',
      'curve://a:1/' + PK_HEX.slice(0, 63),
      'curve://a:1/' + PK_B32Z.slice(0, 51),
      'curve://a:1/' + PK_B64.slice(0, 42),
      'curve://a:1/' + PK_HEX + 'a',
      'curve://a:1/' + PK_B32Z + 'y',
      'curve://a:1/' + PK_B64 + '==',
      'curve://a:1' + PK_HEX,
      'curve://a:1//' + PK_HEX,
      'curve://a:1/' + PK_B64.replace('+', '-'),
    ]) {
      expectBadAddress(s);
    }
  });

  it('ipc+curve paths and keys, the key taken from the end', () => {
    const e = new Address('ipc+curve://my.sock/' + PK_HEX);
    const f = new Address('ipc+curve://../my.sock/' + PK_B32Z);
    const g = new Address('ipc+curve:///my.sock/' + PK_B32Z_UC);
    const h = new Address('ipc+curve://./my.sock/' + PK_B64);
    const h2 = new Address('ipc+curve://./my.sock/' + PK_B64 + '=');
    expect(e.curve && e.isIpc && !e.isTcp).to.equal(true);
    expect(e.socket).to.equal('my.sock');
    expect(f.socket).to.equal('../my.sock');
    expect(g.socket).to.equal('/my.sock');
    expect(h.socket).to.equal('./my.sock');
    expect(h2.socket).to.equal('./my.sock');
    for (const x of [e, f, g, h, h2]) expect(keyOf(x).equals(PK)).to.equal(true);

    expect(h.fullAddress('hex')).to.equal('ipc+curve://./my.sock/' + PK_HEX);
    expect(g.fullAddress('base32z')).to.equal('ipc+curve:///my.sock/' + PK_B32Z);
    expect(f.fullAddress('BASE32Z')).to.equal('ipc+curve://../my.sock/' + PK_B32Z_UC);
    expect(e.fullAddress('base64')).to.equal('ipc+curve://my.sock/' + PK_B64);
    expect(e.zmqAddress()).to.equal('ipc://my.sock');

    // A path may itself contain slashes; only the last segment is the key.
    expect(new Address('ipc+curve://a/b/c/' + PK_HEX).socket).to.equal('a/b/c');

    expectBadAddress('ipc+curve://my.sock/' + PK_HEX.slice(0, 63));
    expectBadAddress('ipc+curve://my.sock/' + PK_B32Z.slice(0, 51));
    expectBadAddress('ipc+curve://my.sock/' + PK_B32Z_UC.slice(0, 51));
    expectBadAddress('ipc+curve://my.sock/' + PK_B64.slice(0, 42));
    expectBadAddress('ipc+curve://my.sock');
    expectBadAddress('ipc+curve://my.sock/');
    expectBadAddress('ipc+curve://');
  });

  it('QR forms: upper case only, no base64, host compared lower-cased', () => {
    const a = new Address('tcp://public.loki.foundation:12345');
    const aQr = new Address('TCP://PUBLIC.LOKI.FOUNDATION:12345');
    const b = new Address('tcp://PUBLIC.LOKI.FOUNDATION:12345');
    expect(a.equals(aQr)).to.equal(true);
    expect(a.equals(b)).to.equal(false);
    expect(aQr.host).to.equal('public.loki.foundation');
    expect(b.host).to.equal('PUBLIC.LOKI.FOUNDATION');
    expect(a.qrAddress()).to.equal('TCP://PUBLIC.LOKI.FOUNDATION:12345');

    const c = Address.tcpCurve('public.loki.foundation', 12345, PK);
    expect(c.qrAddress()).to.equal('CURVE://PUBLIC.LOKI.FOUNDATION:12345/' + PK_B32Z_UC);
    expect(new Address('CURVE://PUBLIC.LOKI.FOUNDATION:12345/' + PK_B32Z_UC).equals(c)).to.equal(true);
    // Upper-case hex is accepted though never produced.
    expect(new Address('CURVE://PUBLIC.LOKI.FOUNDATION:12345/' + PK_HEX_UC).equals(c)).to.equal(true);

    expectBadAddress('CURVE://PUBLIC.LOKI.FOUNDATiON:12345/' + PK_B32Z_UC);
    expectBadAddress('CURVE://PUBLIC.LOKI.FOUNDATION:12345/' + PK_B32Z);
    expectBadAddress('CURVE://PUBLIC.LOKI.FOUNDATION:12345/' + PK_HEX);
    expectBadAddress('CURVE://PUBLIC.LOKI.FOUNDATION:12345/' + 'A'.repeat(43));
    expectBadAddress('CURVE://PUBLIC.LOKI.FOUNDATION:12345/' + 'A'.repeat(43) + '=');
    expectBadAddress('TCP://HOST_NAME:80');
    expectBadAddress('TCP://HOST:80 ');
  });

  it('QR IPv6 literals use $…$ and round-trip through qrAddress', () => {
    const a = new Address('TCP://$::1$:1111');
    expect(a.host).to.equal('[::1]');
    expect(a.equals(new Address('tcp://[::1]:1111'))).to.equal(true);
    const v6 = new Address('CURVE://$FE80::ABCD$:22/' + PK_B32Z_UC);
    expect(v6.host).to.equal('[fe80::abcd]');
    expect(v6.qrAddress()).to.equal('CURVE://$FE80::ABCD$:22/' + PK_B32Z_UC);
    expect(new Address(v6.qrAddress()).equals(v6)).to.equal(true);
    expectBadAddress('TCP://$::1:1111');
    expectBadAddress('TCP://[::1]:1111');
  });

  it('four different addresses hash to distinct keys', () => {
    const addrs = [
      new Address('tcp://127.0.0.1:4567'),
      new Address('curve://127.0.0.1:4567/' + PK_HEX),
      new Address('ipc:///tmp/sock'),
      new Address('ipc+curve:///tmp/sock/' + PK_HEX),
    ];
    const keys = new Set(addrs.map((a) => a.key));
    expect(keys.size).to.equal(4);
    for (let i = 0; i < addrs.length; i++) {
      for (let j = 0; j < addrs.length; j++) expect(addrs[i]!.equals(addrs[j]!), `${i} vs ${j}`).to.equal(i === j);
    }
    // Equal addresses share a key whatever the input encoding.
    expect(new Address('tcp+curve://127.0.0.1:4567/' + PK_B64).key).to.equal(addrs[1]!.key);
  });

  it('setPubkey switches between plain and curve and copies the key', () => {
    const a = new Address('tcp://h:1');
    const k = Uint8Array.from(PK);
    expect(a.setPubkey(k)).to.equal(a);
    expect(a.curve).to.equal(true);
    expect(a.fullAddress()).to.equal('curve://h:1/' + PK_B32Z);
    k[0] = 0; // the caller's array is not shared
    expect(keyOf(a).equals(PK)).to.equal(true);
    a.setPubkey(new Uint8Array(0));
    expect(a.curve).to.equal(false);
    expect(a.fullAddress()).to.equal('tcp://h:1');

    const i = Address.ipcCurve('s', PK);
    i.setPubkey(undefined);
    expect(i.fullAddress()).to.equal('ipc://s');
    expect(() => i.setPubkey(new Uint8Array(31))).to.throw(OmqError);
    expect(new Address('ipc://s', PK).fullAddress('hex')).to.equal('ipc+curve://s/' + PK_HEX);
  });

  it('factories validate ports and key lengths', () => {
    expect(() => Address.tcp('h', 0)).to.throw(OmqError);
    expect(() => Address.tcp('h', 65536)).to.throw(OmqError);
    expect(() => Address.tcp('h', 1.5)).to.throw(OmqError);
    expect(() => Address.tcpCurve('h', 1, new Uint8Array(33))).to.throw(OmqError);
    expect(() => Address.ipcCurve('p', new Uint8Array(0))).to.throw(OmqError);
    expect(() => Address.tcp('', 1).qrAddress()).to.throw(OmqError);
    expect(Address.tcpCurve('h', 1, PK).equals(new Address('curve://h:1/' + PK_HEX))).to.equal(true);
  });

  it('parse and tryParse', () => {
    expect(Address.parse('tcp://h:1').equals(Address.tcp('h', 1))).to.equal(true);
    expect(Address.tryParse('tcp://h')).to.equal(undefined);
    expect(Address.tryParse('tcp://h:2')?.port).to.equal(2);
  });
});
