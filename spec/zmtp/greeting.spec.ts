import { expect } from 'chai';
import { ZmtpErrorCode } from '../../zmtp/errors.js';
import { checkGreetingPrefix, decodeGreeting, encodeGreeting } from '../../zmtp/greeting.js';
import { hex } from '../helpers/random.js';

// Greetings recorded from libzmq 4.3 peers.
const LIBZMQ_DEALER_NULL_33 = hex('ff 0000000000000022 7f 03 01 4e554c4c' + '00'.repeat(16) + '00' + '00'.repeat(31));
const LIBZMQ_ROUTER_NULL = hex('ff 0000000000000001 7f 03 01 4e554c4c' + '00'.repeat(16) + '00' + '00'.repeat(31));
const LIBZMQ_ROUTER_CURVE = hex('ff 0000000000000001 7f 03 01 4355525645' + '00'.repeat(15) + '00' + '00'.repeat(31));

describe('zmtp/greeting', () => {
  it('encodes byte for byte what libzmq sends (padding = routing id length + 1)', () => {
    expect(encodeGreeting('NULL', 33)).to.deep.equal(LIBZMQ_DEALER_NULL_33);
    expect(encodeGreeting('NULL', 0)).to.deep.equal(LIBZMQ_ROUTER_NULL);
    expect(encodeGreeting('CURVE')).to.deep.equal(LIBZMQ_ROUTER_CURVE);
    expect(encodeGreeting('NULL')).to.have.length(64);
  });

  it('decodes 3.1 and accepts 3.0 peers', () => {
    expect(decodeGreeting(LIBZMQ_ROUTER_NULL, 'NULL')).to.deep.equal({ major: 3, minor: 1, mechanism: 'NULL' });
    const v30 = Buffer.from(LIBZMQ_ROUTER_NULL);
    v30[11] = 0;
    expect(decodeGreeting(v30, 'NULL').minor).to.equal(0);
  });

  it('ignores the padding and the as-server byte', () => {
    const g = Buffer.from(LIBZMQ_ROUTER_CURVE);
    g.fill(0xab, 1, 9);
    g[32] = 1;
    expect(decodeGreeting(g, 'CURVE').mechanism).to.equal('CURVE');
  });

  it('rejects a mechanism mismatch with ERR_ZMTP_MECHANISM_MISMATCH', () => {
    expect(() => decodeGreeting(LIBZMQ_ROUTER_CURVE, 'NULL')).to.throw().with.property('code', ZmtpErrorCode.MECHANISM_MISMATCH);
    expect(() => decodeGreeting(LIBZMQ_ROUTER_NULL, 'CURVE')).to.throw().with.property('code', ZmtpErrorCode.MECHANISM_MISMATCH);
  });

  it('rejects a bad signature as soon as the first byte is seen', () => {
    expect(() => checkGreetingPrefix(Buffer.from([0x00]), 1)).to.throw().with.property('code', ZmtpErrorCode.GREETING_SIGNATURE);
  });

  it('rejects a ZMTP 1.0 peer (signature end without bit 0) after 10 bytes', () => {
    const g = Buffer.from(LIBZMQ_ROUTER_NULL);
    g[9] = 0x7e;
    expect(() => checkGreetingPrefix(g, 10)).to.throw().with.property('code', ZmtpErrorCode.GREETING_SIGNATURE);
    expect(() => checkGreetingPrefix(g, 9)).not.to.throw();
  });

  it('rejects ZMTP 2.0 and older with ERR_ZMTP_VERSION after 11 bytes', () => {
    const g = Buffer.from(LIBZMQ_ROUTER_NULL);
    g[10] = 2;
    expect(() => checkGreetingPrefix(g, 11)).to.throw().with.property('code', ZmtpErrorCode.VERSION);
    expect(() => checkGreetingPrefix(g, 10)).not.to.throw();
  });

  it('refuses mechanism names longer than 20 bytes', () => {
    expect(() => encodeGreeting('X'.repeat(21))).to.throw(RangeError);
  });
});
