/**
 * Test harness for the CURVE mechanisms: fake MechanismHosts wired back to back. Commands are
 * queued, not delivered re-entrantly, so a test can stop, inspect or tamper with any command
 * between the stages of the handshake.
 */
import { decodeMetadata, encodeMetadata } from '../../zmtp/metadata.js';
import type { Mechanism, MechanismHost } from '../../zmtp/mechanism.js';
import { curveClient, curveServer, generateKeypair, type CurveKeypair } from '../../curve/index.js';

/** What the fake host does when the mechanism asks it to admit the peer. */
export type AdmitMode = 'accept' | 'defer';

export class FakeHost implements MechanismHost {
  readonly sent: Buffer[] = [];
  readonly admitted: { metadata: Buffer; publicKey: Uint8Array | undefined }[] = [];
  pendingAccept: (() => void) | null = null;
  complete = 0;

  constructor(
    readonly localMetadata: Uint8Array,
    public admitMode: AdmitMode = 'accept',
  ) {}

  sendCommand(body: Uint8Array): void {
    this.sent.push(Buffer.from(body));
  }

  admitPeer(metadata: Uint8Array, publicKey: Uint8Array | undefined, accepted: () => void): void {
    decodeMetadata(Buffer.from(metadata)); // throws a ZmtpError for malformed metadata, like the engine
    this.admitted.push({ metadata: Buffer.from(metadata), publicKey: publicKey && new Uint8Array(publicKey) });
    if (this.admitMode === 'accept') accepted();
    else this.pendingAccept = accepted;
  }

  handshakeComplete(): void {
    this.complete++;
  }
}

export const CLIENT_METADATA = encodeMetadata([
  ['Socket-Type', Buffer.from('DEALER')],
  ['Identity', Buffer.concat([Buffer.from('L'), Buffer.alloc(32, 7)])],
]);
export const SERVER_METADATA = encodeMetadata([
  ['Socket-Type', Buffer.from('ROUTER')],
  ['Identity', Buffer.alloc(0)],
]);

export interface Pair {
  serverKeys: CurveKeypair;
  clientKeys: CurveKeypair;
  clientHost: FakeHost;
  serverHost: FakeHost;
  client: Mechanism;
  server: Mechanism;
  /** Every command body each side sent, in order. */
  fromClient: Buffer[];
  fromServer: Buffer[];
}

export function makePair(opts: { serverKeys?: CurveKeypair; clientKeys?: CurveKeypair; serverKeyForClient?: Uint8Array; admit?: AdmitMode } = {}): Pair {
  const serverKeys = opts.serverKeys ?? generateKeypair();
  const clientKeys = opts.clientKeys ?? generateKeypair();
  const clientHost = new FakeHost(CLIENT_METADATA);
  const serverHost = new FakeHost(SERVER_METADATA, opts.admit ?? 'accept');
  const client = curveClient({
    serverKey: opts.serverKeyForClient ?? serverKeys.publicKey,
    publicKey: clientKeys.publicKey,
    secretKey: clientKeys.secretKey,
  }).create(clientHost, 'client');
  const server = curveServer(serverKeys).create(serverHost, 'server');
  return { serverKeys, clientKeys, clientHost, serverHost, client, server, fromClient: [], fromServer: [] };
}

/** Delivers one queued command from `side`'s host to the other mechanism; false when none. */
export function step(p: Pair, side: 'client' | 'server'): boolean {
  const host = side === 'client' ? p.clientHost : p.serverHost;
  const body = host.sent.shift();
  if (!body) return false;
  (side === 'client' ? p.fromClient : p.fromServer).push(body);
  (side === 'client' ? p.server : p.client).onCommand(body);
  return true;
}

/** Runs the handshake to quiescence (client HELLO, then alternating deliveries). */
export function runHandshake(p: Pair): void {
  p.client.start();
  p.server.start();
  pump(p);
}

/** Delivers queued commands both ways until neither side has anything to send. */
export function pump(p: Pair): void {
  while (step(p, 'client') || step(p, 'server'));
}

/** A new handshake stopped just before `stage` is delivered; returns the pending command too. */
export function upTo(stage: 'HELLO' | 'WELCOME' | 'INITIATE' | 'READY', opts?: Parameters<typeof makePair>[0]): { p: Pair; pending: Buffer } {
  const p = makePair(opts);
  p.client.start();
  const order = ['HELLO', 'WELCOME', 'INITIATE', 'READY'] as const;
  for (const s of order) {
    const host = s === 'HELLO' || s === 'INITIATE' ? p.clientHost : p.serverHost;
    const pending = host.sent.shift()!;
    if (s === stage) return { p, pending };
    (host === p.clientHost ? p.fromClient : p.fromServer).push(pending);
    (host === p.clientHost ? p.server : p.client).onCommand(pending);
  }
  throw new Error('unreachable');
}

/** Deterministic PRNG (xorshift32) so property tests are reproducible. */
export function prng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

export function randomBytesFrom(rand: (n: number) => number, len: number): Buffer {
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = rand(256);
  return b;
}

/** Runs `fn` and returns the error it throws (fails the test when it does not throw). */
export function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error, none was thrown');
}

/** Curve25519 points of small order (and non-canonical encodings of them): X25519 with any of
 * them yields the all-zero secret. */
export const LOW_ORDER_POINTS = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000080',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880',
];
