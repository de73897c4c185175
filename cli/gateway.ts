/**
 * `oxenmq gateway`: serves web pages (or any OxenMQ client) over ZWS 2.0 WebSockets, CURVE by
 * default, and forwards the requests whose command starts with one of the given prefixes to one
 * OxenMQ node (the library's Gateway). Stops cleanly on SIGINT/SIGTERM.
 */
import { Gateway, OmqErrorCode, isOmqError } from '../lib/index.js';
import { toHex } from '../lib/oxenc/index.js';
import { Exit, UsageError, VERBOSE_OPTION, command, loadSeckey, parseMs } from './args.js';
import { logOptions, writeErr, writeOut } from './io.js';
import { stopSignal } from './serve.js';
import { HELP } from './usage.js';

const OPTIONS = {
  ...VERBOSE_OPTION,
  listen: { type: 'string', multiple: true },
  upstream: { type: 'string' },
  forward: { type: 'string', multiple: true },
  origin: { type: 'string', multiple: true },
  plain: { type: 'boolean' },
  seckey: { type: 'string' },
  'max-inflight': { type: 'string' },
  'connect-timeout': { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** Where a page connects to reach `endpoint`: `ws+curve://…/KEY` for a CURVE listener. */
function pageAddress(endpoint: string, curve: boolean, pubkey: Uint8Array): string {
  if (!curve) return endpoint;
  const m = /^(wss?|tcp):\/\/(.*)$/.exec(endpoint);
  if (m === null) return endpoint;
  return m[1] === 'tcp' ? `curve://${m[2]}/${toHex(pubkey)}` : `${m[1]}+curve://${m[2]}/${toHex(pubkey)}`;
}

/** `oxenmq gateway`. */
export const gateway = command(OPTIONS, HELP.gateway, async ({ values, positionals }) => {
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const listen = values.listen ?? [];
  if (listen.length === 0) throw new UsageError('nothing to listen on: give --listen ws://HOST:PORT/PATH');
  for (const l of listen) {
    if (!/^(ws|tcp):\/\/[^/]+:(\d+|\*)(\/.*)?$/.test(l)) throw new UsageError(`--listen ${JSON.stringify(l)} is not a ws://HOST:PORT/PATH address`);
  }
  if (values.upstream === undefined) throw new UsageError('--upstream ADDRESS is required (the node to forward to)');
  const forward = values.forward ?? [];
  if (forward.length === 0) throw new UsageError('--forward PREFIX is required (e.g. --forward rpc.)');
  const origins = values.origin ?? [];
  const maxInflight = values['max-inflight'] === undefined ? undefined : Number(values['max-inflight']);
  if (maxInflight !== undefined && !(Number.isSafeInteger(maxInflight) && maxInflight > 0)) throw new UsageError('--max-inflight needs a positive integer');
  const connectTimeout = values['connect-timeout'] === undefined ? undefined : parseMs(values['connect-timeout'], '--connect-timeout');
  const keys = values.seckey === undefined ? undefined : await loadSeckey(values.seckey);
  const curve = values.plain !== true;

  const signal = stopSignal('gateway');
  let gw: Gateway;
  try {
    gw = await Gateway.start({
      listen,
      upstream: values.upstream,
      forward,
      curve,
      allowOrigin: origins.includes('*') ? '*' : origins,
      maxInflight,
      oxenmq: { ...keys, ...logOptions(values.verbose), ...(connectTimeout === undefined ? {} : { remoteConnectTimeout: connectTimeout }) },
    });
  } catch (err) {
    signal.dispose();
    if (isOmqError(err, OmqErrorCode.CONNECT_FAILED) || isOmqError(err, OmqErrorCode.BIND_FAILED) || isOmqError(err, OmqErrorCode.BAD_ADDRESS)) {
      writeErr(`oxenmq gateway: ${err.message}`);
      return Exit.CONNECT;
    }
    throw err;
  }
  try {
    const addresses = gw.endpoints.map((ep) => pageAddress(ep, curve, gw.pubkey));
    await writeOut(
      values.json
        ? JSON.stringify({ event: 'listening', pubkey: toHex(gw.pubkey), addresses, forward }) + '\n'
        : [`pubkey ${toHex(gw.pubkey)}`, ...addresses.map((a) => `listening on ${a}`), `forwarding ${forward.join(' ')}`].join('\n') + '\n',
    );
    await signal.stopped;
    await gw.close();
    await writeOut(values.json ? JSON.stringify({ event: 'stopped' }) + '\n' : 'stopped\n');
    return Exit.OK;
  } finally {
    await gw.close();
    signal.dispose();
  }
});
