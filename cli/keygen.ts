/**
 * `oxenmq keygen`: an X25519 keypair (RFC 7748), the long-term keys of CurveZMQ (RFC 26) and of
 * an OxenMQ instance, printed so that the output is itself a `--seckey @FILE`.
 */
import { generateKeypair } from '../curve/index.js';
import { toBase32z, toHex } from '../lib/oxenc/index.js';
import { Exit, UsageError, command, loadSeckey } from './args.js';
import { writeOut } from './io.js';
import { HELP } from './usage.js';

const OPTIONS = {
  json: { type: 'boolean' },
  seckey: { type: 'string' },
} as const;

/** `oxenmq keygen`. */
export const keygen = command(OPTIONS, HELP.keygen, async ({ values, positionals }) => {
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  let secretKey: Uint8Array;
  let publicKey: Uint8Array;
  if (values.seckey === undefined) ({ secretKey, publicKey } = generateKeypair());
  else ({ privkey: secretKey, pubkey: publicKey } = await loadSeckey(values.seckey));
  const seckey = toHex(secretKey);
  const pubkey = toHex(publicKey);
  secretKey.fill(0);
  await writeOut(values.json ? JSON.stringify({ seckey, pubkey, pubkey_base32z: toBase32z(publicKey) }) + '\n' : `${seckey}\n${pubkey}\n`);
  return Exit.OK;
});
