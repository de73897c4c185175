import { expect } from 'chai';
import { isZmtpError, ZmtpErrorCode } from '../../zmtp/errors.js';
import { HELLO_PREFIX, ReceiveNonce, SendNonce } from '../../curve/nonce.js';
import { catchError } from './helpers.js';

function be64(hi: number, lo: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setUint32(0, hi);
  new DataView(b.buffer).setUint32(4, lo);
  return b;
}

describe('curve/nonce', () => {
  it('SendNonce counts from 1 in place, with prefix ‖ u64be', () => {
    const n = new SendNonce();
    const bytes = n.bytes;
    n.setPrefix(HELLO_PREFIX).next();
    expect(n.bytes).to.equal(bytes); // preallocated, updated in place
    expect(Buffer.from(bytes).toString('hex')).to.equal(Buffer.from('CurveZMQHELLO---').toString('hex') + '0000000000000001');
    n.next();
    const wire = new Uint8Array(8);
    n.writeCounter(wire, 0);
    expect(Buffer.from(wire).toString('hex')).to.equal('0000000000000002');
  });

  it('SendNonce carries into the high word and refuses to wrap', () => {
    const n = new SendNonce();
    n.lo = 0xffffffff;
    n.next();
    expect([n.hi, n.lo]).to.deep.equal([1, 0]);
    expect(Buffer.from(n.bytes.subarray(16)).toString('hex')).to.equal('0000000100000000');
    n.hi = 0xffffffff;
    n.lo = 0xffffffff;
    expect(isZmtpError(catchError(() => n.next()), ZmtpErrorCode.CURVE_MESSAGE)).to.equal(true);
  });

  it('ReceiveNonce accepts only strictly increasing values over the full 64-bit range', () => {
    const r = new ReceiveNonce();
    expect(r.read(be64(0, 5), 0)).to.equal(true); // first value starts the window
    r.commit();
    expect(r.read(be64(0, 5), 0)).to.equal(false); // replay
    expect(r.read(be64(0, 4), 0)).to.equal(false); // reorder
    expect(r.read(be64(0, 6), 0)).to.equal(true);
    r.commit();
    expect(r.read(be64(0, 0xffffffff), 0)).to.equal(true);
    r.commit();
    expect(r.read(be64(0, 7), 0)).to.equal(false);
    expect(r.read(be64(1, 0), 0)).to.equal(true); // high word compares first
    r.commit();
    expect(r.read(be64(0, 0xffffffff), 0)).to.equal(false);
    expect(r.read(be64(0x80000000, 0), 0)).to.equal(true);
  });

  it('ReceiveNonce does not move the window until commit', () => {
    const r = new ReceiveNonce();
    r.read(be64(0, 1), 0);
    r.commit();
    expect(r.read(be64(0, 9), 0)).to.equal(true); // not committed (say the box failed)
    expect(r.read(be64(0, 2), 0)).to.equal(true);
    expect(Buffer.from(r.bytes.subarray(16)).toString('hex')).to.equal('0000000000000002');
  });
});
