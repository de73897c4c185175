/**
 * The browser's ZWS stream over a stand-in for the web platform's WebSocket: framing out, the
 * waiting while paused, polled backpressure, text refused, and a close that does not wait for
 * the peer's close frame.
 */
import { expect } from 'chai';
import { frameHeader } from '../../zmtp/frame.js';
import { encodeGreeting } from '../../zmtp/greeting.js';
import { type BrowserWebSocket, BrowserWsStream, HIGH_WATER, LOW_WATER } from '../../zmtp/ws-browser.js';

class FakeWebSocket implements BrowserWebSocket {
  binaryType = 'blob';
  readyState = 1;
  bufferedAmount = 0;
  protocol = 'ZWS2.0+NULL';
  sent: number[][] = [];
  closes: number[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  send(data: Uint8Array): void {
    this.sent.push([...data]);
  }
  close(code = 1005): void {
    this.closes.push(code);
    this.readyState = 2;
  }
  /** A binary message from the peer: ZWS flags, then the body. */
  deliver(flags: number, body: string): void {
    this.onmessage!({ data: new Uint8Array([flags, ...new TextEncoder().encode(body)]).buffer });
  }
}

function open(): { ws: FakeWebSocket; stream: BrowserWsStream; data: number[][] } {
  const ws = new FakeWebSocket();
  const stream = new BrowserWsStream(ws, { protocol: 'ZWS2.0+NULL', socketType: 'DEALER', remoteAddress: 'peer', holdLimit: 1024 });
  const data: number[][] = [];
  stream.on('data', (chunk) => data.push([...chunk]));
  stream.start();
  data.length = 0; // the synthesized greeting
  return { ws, stream, data };
}

const bytes = (s: string) => new TextEncoder().encode(s);

describe('zmtp/ws-browser: the ZWS stream on a browser WebSocket', () => {
  it('swallows our greeting and sends each ZMTP frame as one message: flags byte, then body', () => {
    const { ws, stream } = open();
    const frames = [frameHeader(0x01, 2), bytes('ab'), frameHeader(0x00, 1), bytes('c')];
    expect(stream.write(new Uint8Array([...encodeGreeting('NULL'), ...frames.flatMap((f) => [...f])]))).to.equal(true);
    expect(ws.sent).to.deep.equal([
      [0x01, 0x61, 0x62],
      [0x00, 0x63],
    ]);
  });

  it('while paused, messages wait in order; resume hands them over', () => {
    const { ws, stream, data } = open();
    stream.pause();
    ws.deliver(0x01, 'one');
    ws.deliver(0x00, 'two');
    expect(data).to.deep.equal([]);
    stream.resume();
    expect(data).to.deep.equal([[...frameHeader(0x01, 3)], [...bytes('one')], [...frameHeader(0x00, 3)], [...bytes('two')]]);
  });

  it('reports backpressure above HIGH_WATER buffered bytes and drains once under LOW_WATER', async () => {
    const { ws, stream } = open();
    stream.write(encodeGreeting('NULL'));
    ws.bufferedAmount = HIGH_WATER + 1;
    expect(stream.write(new Uint8Array([...frameHeader(0, 1), 0x78]))).to.equal(false);
    const drained = new Promise<void>((resolve) => stream.once('drain', resolve));
    ws.bufferedAmount = LOW_WATER - 1;
    await drained;
    expect(stream.write(new Uint8Array([...frameHeader(0, 1), 0x79]))).to.equal(true);
    expect(ws.sent).to.deep.equal([
      [0, 0x78],
      [0, 0x79],
    ]);
  });

  it('a text message ends the connection with ERR_ZMTP_WS_PROTOCOL', () => {
    const { ws, stream } = open();
    const errors: unknown[] = [];
    stream.on('error', (e) => errors.push(e));
    ws.onmessage!({ data: 'hello' });
    expect(errors).to.have.length(1);
    expect(errors[0]).to.have.property('code', 'ERR_ZMTP_WS_PROTOCOL');
    expect(stream.destroyed).to.equal(true);
  });

  it('end() closes with 1000 and reports the stream closed without waiting for the peer', async () => {
    const { ws, stream } = open();
    const closed = new Promise<void>((resolve) => stream.once('close', resolve));
    stream.end();
    await closed;
    expect(ws.closes).to.deep.equal([1000]);
    expect(ws.onclose).to.not.equal(null); // the peer's close frame never came
  });
});
