/**
 * No silent downgrade: an address that says curve carries exactly a 32-byte key or is refused,
 * no connect path falls back to plaintext, and every Address — parsed or built — writes a
 * `fullAddress()` that parses back to an equal Address, in every key encoding.
 */
import { expect } from 'chai';
import { Address, type AddressKeyEncoding, OxenMQ } from '../../lib/index.js';
import { OmqErrorCode } from '../../lib/errors.js';
import { toBase32z, toBase64, toHex } from '../../lib/oxenc/index.js';
import { thrownCode } from '../helpers/omq.js';
import { Rng } from '../helpers/random.js';

const ENCODINGS: AddressKeyEncoding[] = ['base32z', 'hex', 'base64', 'BASE32Z'];
const badCode = thrownCode;

describe('lib/address: no silent downgrade, and every address round-trips', () => {
  it('ipc+curve with a key that decodes to 31 or 33 bytes is refused, in every encoding', () => {
    for (const n of [31, 33]) {
      const key = Buffer.alloc(n, 0x5a);
      for (const enc of [toBase64(key), toBase64(key, { pad: false }), toHex(key), toBase32z(key)]) {
        expect(badCode(() => Address.parse(`ipc+curve:///tmp/sock/${enc}`)), `${n} bytes as ${enc}`).to.equal(OmqErrorCode.BAD_ADDRESS);
        expect(badCode(() => Address.parse(`curve://127.0.0.1:5555/${enc}`)), `${n} bytes as ${enc}`).to.equal(OmqErrorCode.BAD_ADDRESS);
      }
    }
  });

  it('connectRemote refuses a CURVE address whose key is not 32 bytes instead of connecting in plaintext', async () => {
    const omq = new OxenMQ();
    await omq.start();
    try {
      // An Address cannot be made with a 31-byte key; a hand-forged one must still not connect.
      const forged = Address.tcp('127.0.0.1', 1);
      (forged as unknown as { pk: Uint8Array }).pk = new Uint8Array(31);
      const err = await omq.connectRemote(forged).then(
        () => undefined,
        (e: { code: string }) => e,
      );
      expect(err?.code).to.equal(OmqErrorCode.CONNECT_FAILED);
    } finally {
      await omq.close();
    }
  });

  it('built addresses write a full address that parses back to an equal one (property, 2000 cases)', () => {
    const rng = new Rng(0xadd7e55);
    const hosts = ['127.0.0.1', 'localhost', 'node.example', '::1', '[fe80::1]', '2001:db8::42', 'a-b.c', 'X.Y'];
    const pathChars = 'abcXYZ019/._-+=@~ %';
    let built = 0;
    for (let i = 0; i < 2000; i++) {
      const key = rng.int(2) === 0 ? undefined : rng.bytes(32);
      let a: Address;
      try {
        if (rng.int(2) === 0) {
          const host = hosts[rng.int(hosts.length)]!;
          const port = 1 + rng.int(65535);
          a = key ? Address.tcpCurve(host, port, key) : Address.tcp(host, port);
        } else {
          let path = '';
          for (let n = rng.int(40); n > 0; n--) path += pathChars[rng.int(pathChars.length)];
          a = key ? Address.ipcCurve(path, key) : Address.ipc(path);
        }
      } catch (err) {
        // Only an unwritable host or path may be refused, and only with BAD_ADDRESS.
        expect((err as { code?: string }).code).to.equal(OmqErrorCode.BAD_ADDRESS);
        continue;
      }
      built++;
      for (const enc of ENCODINGS) {
        const text = a.fullAddress(enc);
        const back = Address.parse(text);
        expect(back.equals(a), `${text} parses back to the same address`).to.equal(true);
        expect(back.curve).to.equal(key !== undefined);
      }
    }
    expect(built).to.be.above(1500);
  });

  it('parsed addresses round-trip too, whatever form they were written in', () => {
    const key = Buffer.alloc(32, 0xa5);
    const forms = [
      'tcp://127.0.0.1:22020',
      `curve://node.example:22025/${toHex(key)}`,
      `tcp+curve://[::1]:1/${toBase32z(key)}`,
      `CURVE://NODE.EXAMPLE:22025/${toBase32z(key).toUpperCase()}`,
      'TCP://$::1$:99',
      'ipc:///tmp/omq.sock',
      `ipc+curve:///run/oxend/sock/${toBase64(key)}`,
      `ipc+curve:///${toBase64(key, { pad: false })}`,
    ];
    for (const f of forms) {
      const a = Address.parse(f);
      for (const enc of ENCODINGS) expect(Address.parse(a.fullAddress(enc)).equals(a), `${f} via ${enc}`).to.equal(true);
    }
  });
});
