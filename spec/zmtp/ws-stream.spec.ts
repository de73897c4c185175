/**
 * The outgoing half of the ZWS 2.0 adapter on its own: the ZMTP byte stream the encoder writes,
 * however it is cut, becomes one RFC 6455 binary message per ZMTP frame (`flags ‖ body`, libzmq
 * `src/ws_encoder.cpp`), masked exactly when we are the client, with every length form, and a
 * batch of small frames reaches the socket in one write.
 */
import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { FLAG_COMMAND, FLAG_MORE, writeFrameHeader } from '../../zmtp/frame.js';
import { GREETING_SIZE } from '../../zmtp/greeting.js';
import { WsStream, ZWS_NULL } from '../../zmtp/ws-stream.js';

class FakeRaw extends EventEmitter {
  readonly writes: Buffer[] = [];
  writableNeedDrain = false;
  write(chunk: Uint8Array): boolean {
    // A copy: what the stream hands over must never change afterwards.
    this.writes.push(Buffer.from(chunk));
    return true;
  }
  cork(): void {}
  uncork(): void {}
}

class FakeWs extends EventEmitter {
  readyState = 1;
  readonly CLOSED = 3;
  bufferedAmount = 0;
  close(): void {}
  terminate(): void {}
  ping(): void {}
}

function stream(masked: boolean): { s: WsStream; raw: FakeRaw; ws: FakeWs } {
  const raw = new FakeRaw();
  const ws = new FakeWs();
  const s = new WsStream({ ws: ws as unknown as WebSocket, raw, protocol: ZWS_NULL, socketType: 'DEALER', remoteAddress: '127.0.0.1', masked, holdLimit: 1 << 20 });
  return { s, raw, ws };
}

/** An independent RFC 6455 §5.2 reader: each frame must be FIN + binary, masked as `masked` says. */
function messages(wire: Buffer, masked: boolean): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < wire.length) {
    expect(wire[at], 'FIN + binary opcode').to.equal(0x82);
    const b1 = wire[at + 1]!;
    expect(Boolean(b1 & 0x80), 'MASK bit').to.equal(masked);
    let len = b1 & 0x7f;
    at += 2;
    if (len === 126) {
      len = wire.readUInt16BE(at);
      expect(len, 'shortest length form').to.be.at.least(126);
      at += 2;
    } else if (len === 127) {
      len = Number(wire.readBigUInt64BE(at));
      expect(len, 'shortest length form').to.be.above(0xffff);
      at += 8;
    }
    let key: Buffer | undefined;
    if (masked) {
      key = wire.subarray(at, at + 4);
      at += 4;
    }
    const body = Buffer.from(wire.subarray(at, at + len));
    expect(body.length, 'whole payload').to.equal(len);
    if (key !== undefined) for (let i = 0; i < len; i++) body[i]! ^= key[i & 3]!;
    out.push(body);
    at += len;
  }
  return out;
}

const SIZES = [0, 1, 3, 124, 125, 126, 254, 255, 256, 1023, 1024, 1025, 65534, 65535, 65536, 70001];

/** A greeting's worth of bytes, then one ZMTP frame per size, with its expected ZWS message. */
function zmtpStream(sizes: readonly number[]): { bytes: Buffer; expected: Buffer[] } {
  const parts: Buffer[] = [Buffer.alloc(GREETING_SIZE, 0xee)];
  const expected: Buffer[] = [];
  sizes.forEach((size, i) => {
    const body = Buffer.alloc(size);
    for (let k = 0; k < size; k++) body[k] = (k * 7 + i) & 0xff;
    const flags = i % 3 === 0 ? FLAG_MORE : i % 3 === 1 ? FLAG_COMMAND : 0;
    const head = Buffer.alloc(9);
    parts.push(head.subarray(0, writeFrameHeader(head, 0, flags, size)), body);
    expected.push(Buffer.concat([Buffer.from([flags === FLAG_MORE ? 0x01 : flags === FLAG_COMMAND ? 0x02 : 0]), body]));
  });
  return { bytes: Buffer.concat(parts), expected };
}

describe('zmtp/ws-stream: ZMTP frames out as WebSocket messages', () => {
  for (const masked of [false, true]) {
    const side = masked ? 'client (masked)' : 'server (unmasked)';
    for (const cut of [0, 1, 5, 4099]) {
      const how = cut === 0 ? 'in one write' : `in writes of ${cut} B`;
      // Byte by byte only up to the 16-bit length form, to stay quick.
      const sizes = cut === 1 ? SIZES.filter((n) => n <= 1025) : SIZES;
      it(`${side}: ${cut === 1 ? 'the 7- and 16-bit length forms' : 'every length form'}, ${how}, arrive as the same messages`, () => {
        const { s, raw } = stream(masked);
        const { bytes, expected } = zmtpStream(sizes);
        if (cut === 0) s.write(bytes);
        else for (let at = 0; at < bytes.length; at += cut) s.write(bytes.subarray(at, at + cut));
        expect(messages(Buffer.concat(raw.writes), masked)).to.deep.equal(expected);
      });
    }
  }

  it('a batch of small frames goes to the socket in one write', () => {
    for (const masked of [false, true]) {
      const { s, raw } = stream(masked);
      s.write(Buffer.alloc(GREETING_SIZE));
      const frames: Buffer[] = [];
      for (let i = 0; i < 50; i++) frames.push(Buffer.from([FLAG_MORE, 3, i, i, i]), Buffer.from([0, 1, i]));
      s.write(Buffer.concat(frames));
      expect(raw.writes).to.have.length(1);
      expect(messages(raw.writes[0]!, masked)).to.have.length(100);
    }
  });

  it('masking keys differ from message to message', () => {
    const { s, raw } = stream(true);
    s.write(Buffer.alloc(GREETING_SIZE));
    for (let i = 0; i < 20; i++) s.write(Buffer.from([0, 4, 0, 0, 0, 0]));
    const keys = new Set(raw.writes.map((w) => w.subarray(2, 6).toString('hex')));
    expect(keys.size).to.be.above(15);
  });

  it('nothing is written once the WebSocket is closing', () => {
    const { s, raw, ws } = stream(false);
    s.write(Buffer.alloc(GREETING_SIZE));
    ws.readyState = 2;
    s.write(Buffer.from([0, 1, 9]));
    expect(raw.writes).to.have.length(0);
  });
});
