/**
 * Fuzz targets of the CurveZMQ handshake and MESSAGE boxes (RFC 26): real client and server
 * mechanisms (curve/client.ts, curve/server.ts) are driven to a stage, and that stage's command
 * is mutated (or replaced, or carries mutated metadata inside a valid box) before the peer reads
 * it. The only acceptable throw is a ZmtpError; and a command whose authenticated bytes were
 * changed must never be accepted.
 */
import { curveClient, curveServer, generateKeypair } from '../../curve/index.js';
import { isZmtpError } from '../../zmtp/errors.js';
import { FLAG_COMMAND, FLAG_LONG, FLAG_MORE } from '../../zmtp/frame.js';
import type { Mechanism, MechanismFactory } from '../../zmtp/mechanism.js';
import { encodeMetadata } from '../../zmtp/metadata.js';
import { CLIENT_METADATA, FakeHost, SERVER_METADATA } from '../curve/helpers.js';
import { Rng } from '../helpers/random.js';
import { ascii, chance, mutate, pick, size } from './mutate.js';
import { type FuzzTarget, check } from './runner.js';
import { nodeBuf } from '../helpers/bytes.js';

type Stage = 'HELLO' | 'WELCOME' | 'INITIATE' | 'READY';
type Variant = 'valid' | 'mutate' | 'random' | 'metadata';

interface CurveInput {
  seed: number;
  variant: Variant;
  /** What was fed at the fuzzed stage, filled in by run() for show(). */
  fed?: Uint8Array[];
}

let factories: { client: MechanismFactory; server: MechanismFactory } | null = null;

/** One key set for the whole run: the factories validate and import keys once. */
function curveFactories() {
  if (factories === null) {
    const serverKeys = generateKeypair();
    const clientKeys = generateKeypair();
    factories = {
      client: curveClient({ serverKey: serverKeys.publicKey, publicKey: clientKeys.publicKey, secretKey: clientKeys.secretKey }),
      server: curveServer(serverKeys),
    };
  }
  return factories;
}

interface Pair {
  clientHost: FakeHost;
  serverHost: FakeHost;
  client: Mechanism;
  server: Mechanism;
}

function newPair(clientMetadata: Uint8Array = CLIENT_METADATA, serverMetadata: Uint8Array = SERVER_METADATA): Pair {
  const f = curveFactories();
  const clientHost = new FakeHost(clientMetadata);
  const serverHost = new FakeHost(serverMetadata);
  return { clientHost, serverHost, client: f.client.create(clientHost, 'client'), server: f.server.create(serverHost, 'server') };
}

/** Runs the handshake up to `stage` and returns the command the stage's sender just produced. */
function advanceTo(p: Pair, stage: Stage): Uint8Array {
  p.client.start();
  const hello = p.clientHost.sent.shift()!;
  if (stage === 'HELLO') return hello;
  p.server.onCommand(hello);
  const welcome = p.serverHost.sent.shift()!;
  if (stage === 'WELCOME') return welcome;
  p.client.onCommand(welcome);
  const initiate = p.clientHost.sent.shift()!;
  if (stage === 'INITIATE') return initiate;
  p.server.onCommand(initiate);
  return p.serverHost.sent.shift()!;
}

/** Random metadata that is sometimes malformed: for the boxes of INITIATE and READY. */
function fuzzMetadata(rng: Rng): Uint8Array {
  const props: [string, Buffer][] = [];
  for (let i = rng.int(5); i > 0; i--) props.push([pick(rng, ['Socket-Type', 'Identity', ascii(rng, 1 + rng.int(12))]), rng.bytes(size(rng, 300))]);
  const m = encodeMetadata(props);
  return chance(rng, 0.7) ? mutate(rng, m) : m;
}

/**
 * Whether `b` differs from `a` in bytes the receiver authenticates. Two HELLO differences are not
 * authenticated: bytes 8–79 are padding that neither libzmq nor we look at, and the top bit of C′
 * (bit 7 of byte 111) is ignored by X25519 itself (RFC 7748 §5: implementations MUST mask it), so
 * both encodings name the same key.
 */
function authenticatedDiffers(stage: Stage, a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return true;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    if (stage === 'HELLO' && ((i >= 8 && i < 80) || (i === 111 && (a[i]! ^ b[i]!) === 0x80))) continue;
    return true;
  }
  return false;
}

function handshakeTarget(stage: Stage): FuzzTarget<CurveInput> {
  const receiver = stage === 'HELLO' || stage === 'INITIATE' ? 'server' : 'client';
  return {
    name: `curve-${stage.toLowerCase()}`,
    description: `CURVE ${receiver} fed a valid, mutated or random ${stage}${stage === 'INITIATE' || stage === 'READY' ? ' (or one boxing mutated metadata)' : ''}`,
    generate(rng) {
      const r = rng.int(10);
      const boxesMetadata = stage === 'INITIATE' || stage === 'READY';
      const variant: Variant = r === 0 ? 'valid' : r === 1 ? 'random' : r <= 3 && boxesMetadata ? 'metadata' : 'mutate';
      return { seed: rng.next() || 1, variant };
    },
    run(input) {
      const rng = new Rng(input.seed);
      const meta = input.variant === 'metadata' ? fuzzMetadata(rng) : undefined;
      const p = newPair(stage === 'INITIATE' ? meta : undefined, stage === 'READY' ? meta : undefined);
      try {
        const valid = advanceTo(p, stage);
        let fed = valid;
        if (input.variant === 'mutate') fed = mutate(rng, valid);
        else if (input.variant === 'random') fed = Buffer.concat([valid.subarray(0, rng.int(valid[0]! + 2)), rng.bytes(size(rng, 400))]);
        input.fed = [fed];
        const mech = receiver === 'server' ? p.server : p.client;
        const host = receiver === 'server' ? p.serverHost : p.clientHost;
        mech.onCommand(fed);
        check(!authenticatedDiffers(stage, valid, fed), `a ${stage} with changed authenticated bytes was accepted`);
        if (stage === 'HELLO') check(host.sent.length === 1, 'an accepted HELLO got no WELCOME');
        if (stage === 'WELCOME') check(host.sent.length === 1, 'an accepted WELCOME got no INITIATE');
        if (stage === 'INITIATE' || stage === 'READY') check(host.complete === 1 && mech.codec !== null, `an accepted ${stage} did not complete the handshake`);
      } finally {
        p.client.destroy();
        p.server.destroy();
      }
    },
    accepts: (err) => isZmtpError(err),
    show: (i) => `variant=${i.variant} seed=${i.seed} fed=${(i.fed ?? []).map((b) => nodeBuf(b).toString('hex')).join(' ')}`,
  };
}

export const curveHelloTarget = handshakeTarget('HELLO');
export const curveWelcomeTarget = handshakeTarget('WELCOME');
export const curveInitiateTarget = handshakeTarget('INITIATE');
export const curveReadyTarget = handshakeTarget('READY');

/** Splits a wire frame from encodeFrame into its body (the MESSAGE command). */
function wireBody(wire: Uint8Array): Uint8Array {
  const b = Buffer.from(wire);
  return b.subarray(b[0]! & FLAG_LONG ? 9 : 2);
}

/**
 * MESSAGE boxes after a completed handshake, either direction: a short sequence of frames, each
 * possibly mutated, replayed or skipped. Unchanged frames in order decode to what was sent; a
 * changed or replayed one is refused and the codec stays failed.
 */
export const curveMessageTarget: FuzzTarget<CurveInput> = {
  name: 'curve-message',
  description: 'CURVE MessageCodec.decodeFrame fed sequences of valid, mutated, replayed and skipped MESSAGE frames',
  generate(rng) {
    return { seed: rng.next() || 1, variant: chance(rng, 0.1) ? 'valid' : 'mutate' };
  },
  run(input) {
    const rng = new Rng(input.seed);
    const p = newPair();
    try {
      p.client.onCommand(advanceTo(p, 'READY'));
      const toServer = chance(rng, 0.5);
      const from = (toServer ? p.client : p.server).codec!;
      const to = (toServer ? p.server : p.client).codec!;
      input.fed = [];
      let last: Uint8Array | null = null;
      for (let n = 1 + rng.int(4); n > 0; n--) {
        const flags = pick(rng, [0, FLAG_MORE, FLAG_COMMAND]);
        const payload = rng.bytes(size(rng, 400));
        const valid = wireBody(from.encodeFrame(flags, payload));
        const action = input.variant === 'valid' ? 0 : rng.int(6);
        if (action === 1) continue; // skipped: later nonces are still strictly increasing
        let fed = valid;
        if (action === 2 && last !== null) fed = last; // replayed
        else if (action >= 3) fed = mutate(rng, valid);
        input.fed.push(fed);
        const changed = fed !== valid && !nodeBuf(fed).equals(valid);
        const out = to.decodeFrame(0, Buffer.from(fed));
        check(!changed, 'a changed or replayed MESSAGE was accepted');
        check(nodeBuf(out).equals(payload) && to.lastFlags === flags, 'a MESSAGE decoded to other bytes or flags');
        last = valid;
      }
    } finally {
      p.client.destroy();
      p.server.destroy();
    }
  },
  accepts: (err) => isZmtpError(err),
  show: (i) => `variant=${i.variant} seed=${i.seed} fed=${(i.fed ?? []).map((b) => nodeBuf(b).toString('hex')).join(' ')}`,
};
