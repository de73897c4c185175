/**
 * CURVE keys for the benchmark. The secrets are derived from fixed strings, not random, so the
 * two sides of a split run (--bind on one machine, --connect on another) agree on the server key
 * without a side channel. That is fine for a benchmark and wrong for anything else.
 */
import { createHash } from 'node:crypto';
import { publicKeyFromSecret, z85Encode } from '../curve/index.js';
import type { CurveKeys } from './protocol.js';

function keyPair(seed: string): { secret: string; public: string } {
  const secret = createHash('sha256').update(seed).digest();
  return { secret: secret.toString('hex'), public: Buffer.from(publicKeyFromSecret(secret)).toString('hex') };
}

/** The fixed bench key pairs (hex). */
export function benchKeys(): CurveKeys {
  const server = keyPair('oxenmq-bench server key');
  const client = keyPair('oxenmq-bench client key');
  return { serverPublic: server.public, serverSecret: server.secret, clientPublic: client.public, clientSecret: client.secret };
}

/** A hex key as Z85 (ZeroMQ RFC 32), the form zeromq.js takes. */
export function hexToZ85(hex: string): string {
  return z85Encode(Buffer.from(hex, 'hex'));
}
