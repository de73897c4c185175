import { expect } from 'chai';
import { commandData, commandName, decodeErrorReason, encodeCommand, encodeError } from '../../zmtp/command.js';
import { ZmtpErrorCode } from '../../zmtp/errors.js';
import { frameHeader } from '../../zmtp/frame.js';
import { decodePing, encodePing, encodePong } from '../../zmtp/heartbeat.js';
import { decodeMetadata, encodeMetadata } from '../../zmtp/metadata.js';
import { hex } from '../helpers/random.js';

// Bytes recorded from real C++ oxenmq peers (a client, a listener, a denial, heartbeats).
const CLIENT_PK = hex('0faa684ed28867b97f4a6a2dee5df8ce974e76b7018e3f22a1c4cf2678570f20');
const DEALER_READY_FRAME = hex(
  '044a 05 5245414459 0b 536f636b65742d54797065 00000006 4445414c4552 08 4964656e74697479 00000021 4c' +
    '0faa684ed28867b97f4a6a2dee5df8ce974e76b7018e3f22a1c4cf2678570f20',
);
const ROUTER_READY_FRAME = hex('0429 05 5245414459 0b 536f636b65742d54797065 00000006 524f55544552 08 4964656e74697479 00000000');
const ERROR_400_FRAME = hex('040a 05 4552524f52 03 343030');
const PING_FRAME = hex('0407 04 50494e47 0000');
const PONG_FRAME = hex('0405 04 504f4e47');

function frame(flags: number, body: Uint8Array): Uint8Array {
  return Buffer.concat([frameHeader(flags, body.length), body]);
}

describe('zmtp/commands and metadata', () => {
  it('READY with Socket-Type=DEALER and Identity "L"+pubkey matches the C++ client byte for byte', () => {
    const id = Buffer.concat([Buffer.from('L'), CLIENT_PK]);
    const body = encodeCommand('READY', encodeMetadata([['Socket-Type', Buffer.from('DEALER')], ['Identity', id]]));
    expect(frame(0x04, body)).to.deep.equal(DEALER_READY_FRAME);
  });

  it('READY with Socket-Type=ROUTER and an empty Identity matches the C++ listener', () => {
    const body = encodeCommand('READY', encodeMetadata([['Socket-Type', Buffer.from('ROUTER')], ['Identity', Buffer.alloc(0)]]));
    expect(frame(0x04, body)).to.deep.equal(ROUTER_READY_FRAME);
  });

  it('decodes the recorded READY properties with lower-cased names', () => {
    const body = DEALER_READY_FRAME.subarray(2);
    expect(commandName(body)).to.equal('READY');
    const md = decodeMetadata(commandData(body));
    expect(md.get('socket-type')!.toString()).to.equal('DEALER');
    expect(md.get('identity')!.subarray(1)).to.deep.equal(CLIENT_PK);
  });

  it('ERROR "400" matches the C++ listener denial', () => {
    expect(frame(0x04, encodeError('400'))).to.deep.equal(ERROR_400_FRAME);
    expect(decodeErrorReason(commandData(ERROR_400_FRAME.subarray(2)))).to.equal('400');
  });

  it('PING (TTL 0, no context) and PONG match libzmq', () => {
    expect(frame(0x04, encodePing(0))).to.deep.equal(PING_FRAME);
    expect(frame(0x04, encodePong(Buffer.alloc(0)))).to.deep.equal(PONG_FRAME);
  });

  it('PING carries the TTL in deciseconds and up to 16 bytes of context; PONG echoes it', () => {
    const ping = encodePing(2599, Buffer.alloc(20, 7));
    const { ttlMs, context } = decodePing(commandData(ping));
    expect(ttlMs).to.equal(2500);
    expect(context).to.deep.equal(Buffer.alloc(16, 7));
    expect(commandData(encodePong(context))).to.deep.equal(Buffer.alloc(16, 7));
  });

  it('rejects malformed commands with ERR_ZMTP_MALFORMED_COMMAND', () => {
    const code = ZmtpErrorCode.MALFORMED_COMMAND;
    expect(() => commandName(Buffer.from([0]))).to.throw().with.property('code', code);
    expect(() => commandName(Buffer.from([9, 0x41]))).to.throw().with.property('code', code);
    expect(() => decodePing(Buffer.from([0]))).to.throw().with.property('code', code);
    expect(() => decodeErrorReason(Buffer.from([5, 0x34]))).to.throw().with.property('code', code);
    expect(() => decodeMetadata(hex('00'))).to.throw().with.property('code', code);
    expect(() => decodeMetadata(hex('01 41 000000'))).to.throw().with.property('code', code);
    expect(() => decodeMetadata(hex('01 41 00000005 4142'))).to.throw().with.property('code', code);
    expect(() => decodeMetadata(hex('01 41 ffffffff'))).to.throw().with.property('code', code);
  });
});
