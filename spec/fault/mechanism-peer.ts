/**
 * A hand-driven ZMTP peer over a raw net socket that runs a real security mechanism (NULL or
 * CURVE, either role) but leaves every write to the test: the fault specs use it to stop at any
 * byte of a greeting, a handshake command or a (boxed) frame and then kill the socket.
 */
import net from 'node:net';
import { curveClient, curveServer, generateKeypair, type CurveKeypair } from '../../curve/index.js';
import { Decoder } from '../../zmtp/decoder.js';
import { FLAG_COMMAND, FLAG_MORE, frameHeader } from '../../zmtp/frame.js';
import { encodeGreeting } from '../../zmtp/greeting.js';
import type { FrameCodec, Mechanism, MechanismFactory, MechanismHost, MechanismRole } from '../../zmtp/mechanism.js';
import { encodeMetadata } from '../../zmtp/metadata.js';
import { nullMechanism } from '../../zmtp/null.js';
import { waitFor } from '../helpers/net.js';
import { nodeBuf } from '../helpers/bytes.js';

export type Security = 'NULL' | 'CURVE';

/** The mechanism factory a peer of `role` needs; CURVE clients need the server's public key. */
export function factoryFor(security: Security, role: MechanismRole, keys: CurveKeypair, serverKey?: Uint8Array): MechanismFactory {
  if (security === 'NULL') return nullMechanism;
  return role === 'server' ? curveServer(keys) : curveClient({ serverKey: serverKey!, publicKey: keys.publicKey, secretKey: keys.secretKey });
}

/** Builds the wire bytes of one frame (plain or boxed by `codec`). */
function wireFrame(codec: FrameCodec | null, flags: number, body: Uint8Array): Uint8Array {
  if (codec !== null) return Buffer.from(codec.encodeFrame(flags, body));
  return Buffer.concat([frameHeader(flags, body.length), body]);
}

export class MechanismPeer implements MechanismHost {
  readonly localMetadata: Uint8Array;
  readonly mechanism: Mechanism;
  /** Data messages received after the handshake. */
  readonly messages: Uint8Array[][] = [];
  /** Names of the handshake commands received. */
  readonly commands: string[] = [];
  greetingReceived = false;
  ready = false;
  closed = false;
  /** Handshake commands the mechanism produced, held until {@link MechanismPeer.flushCommands}. */
  private held: Uint8Array[] = [];
  private parts: Uint8Array[] = [];
  private readonly decoder: Decoder;
  /** Handshake commands written as produced before the rest are held (see {@link MechanismPeer.takeHeld}). */
  sendFirst = Infinity;
  private sent = 0;

  constructor(
    readonly socket: net.Socket,
    readonly security: Security,
    readonly role: MechanismRole,
    factory: MechanismFactory,
  ) {
    this.localMetadata = encodeMetadata([
      ['Socket-Type', Buffer.from(role === 'server' ? 'ROUTER' : 'DEALER')],
      ['Identity', Buffer.alloc(0)],
    ]);
    this.mechanism = factory.create(this, role);
    this.decoder = new Decoder(
      {
        onGreeting: () => {
          this.greetingReceived = true;
          this.mechanism.start();
        },
        onFrame: (flags, body) => this.onFrame(flags, body),
      },
      { maxMessageSize: -1 },
    );
    socket.on('data', (d) => {
      try {
        this.decoder.push(d);
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => (this.closed = true));
  }

  /** Connects to 127.0.0.1:`port`. */
  static connect(port: number, security: Security, factory: MechanismFactory): Promise<MechanismPeer> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(new MechanismPeer(s, security, 'client', factory)));
      s.once('error', reject);
    });
  }

  /** Our 64-byte greeting. */
  get greeting(): Uint8Array {
    return encodeGreeting(this.security);
  }

  sendCommand(body: Uint8Array): void {
    const f = Buffer.concat([frameHeader(FLAG_COMMAND, body.length), body]);
    if (this.sent++ < this.sendFirst) this.socket.write(f);
    else this.held.push(f);
  }

  /** How many handshake commands are held back. */
  get heldCount(): number {
    return this.held.length;
  }

  /** The handshake commands held back, as wire bytes (not written). */
  takeHeld(): Uint8Array {
    const b = Buffer.concat(this.held);
    this.held = [];
    return b;
  }

  admitPeer(_metadata: Uint8Array, _publicKey: Uint8Array | undefined, accepted: () => void): void {
    accepted();
  }

  handshakeComplete(): void {
    this.ready = true;
  }

  /** The wire bytes of a multipart message (not written). */
  message(...parts: string[]): Uint8Array {
    return Buffer.concat(parts.map((p, i) => wireFrame(this.mechanism.codec, i < parts.length - 1 ? FLAG_MORE : 0, Buffer.from(p))));
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Waits until `cond()` holds. */
  until(cond: () => boolean, what: string): Promise<void> {
    return waitFor(cond, what);
  }

  /** Kills the socket at once (no FIN handshake courtesy beyond what the kernel does). */
  kill(): void {
    this.socket.destroy();
  }

  private onFrame(flags: number, raw: Uint8Array): void {
    const codec = this.ready ? this.mechanism.codec : null;
    const body = codec !== null ? codec.decodeFrame(flags, raw) : raw;
    const logical = codec !== null ? codec.lastFlags : flags;
    if (logical & FLAG_COMMAND) {
      this.commands.push(nodeBuf(body).toString('latin1', 1, 1 + body[0]!));
      if (!this.ready) this.mechanism.onCommand(Buffer.from(body));
      return;
    }
    this.parts.push(Buffer.from(body));
    if (!(logical & FLAG_MORE)) this.messages.push(this.parts.splice(0));
  }
}

/** A fresh CURVE key pair (or none for NULL), for the listener under test. */
export const keysFor = (): CurveKeypair => generateKeypair();
