/**
 * `oxenmq serve`: a small OxenMQ node to develop and test against. It serves the `echo`
 * category (echo.echo, echo.ping, echo.log) on plain and CURVE listeners, prints every message
 * that reaches those commands, and stops cleanly on SIGINT/SIGTERM.
 */
import { Address, AuthLevel, type Message, OmqErrorCode, OxenMQ, isOmqError } from '../lib/index.js';
import { toHex } from '../lib/oxenc/index.js';
import { Exit, FORMAT_OPTIONS, type Format, UsageError, VERBOSE_OPTION, command, formatOf, loadSeckey } from './args.js';
import { logOptions, writeErr, writeOut } from './io.js';
import { jsonPart, logPart } from './render.js';
import { HELP } from './usage.js';

const OPTIONS = {
  ...FORMAT_OPTIONS,
  ...VERBOSE_OPTION,
  listen: { type: 'string', multiple: true },
  'curve-listen': { type: 'string', multiple: true },
  seckey: { type: 'string' },
} as const;

/** How long queued replies may take to go out once a stop is asked for, ms. */
const STOP_LINGER_MS = 1000;

/**
 * A listen address: `tcp://HOST:PORT` (port 0 or `*`: any free port, which Address would
 * refuse) or `ipc://PATH`, without a key (a CURVE listener uses the node's own). What the host
 * or path means is the bind's business: a bad one fails there.
 */
function checkBind(bind: string, option: string): string {
  if (/^(tcp|ipc)\+curve:\/\/|^curve:\/\//i.test(bind)) throw new UsageError(`${option} takes tcp:// or ipc:// (a CURVE listener uses the node's own key)`);
  if (!/^tcp:\/\/[^/]+:(\d+|\*)$/.test(bind) && !/^ipc:\/\/./.test(bind)) {
    throw new UsageError(`${option} ${JSON.stringify(bind)} is not a tcp://HOST:PORT or ipc://PATH address`);
  }
  return bind;
}

/** Where a peer connects to reach `endpoint`: with the node's key for a CURVE listener. */
function connectAddress(endpoint: string, curve: boolean, pubkey: Uint8Array): string {
  if (!curve) return endpoint;
  const a = Address.tryParse(endpoint);
  return a === undefined ? `${endpoint} (pubkey ${toHex(pubkey)})` : a.setPubkey(pubkey).fullAddress('hex');
}

/** Prints what the node does, in the chosen format. */
class Printer {
  constructor(private readonly format: Format) {}

  listening(pubkey: Uint8Array, addresses: string[]): Promise<void> {
    if (this.format === 'json') return writeOut(JSON.stringify({ event: 'listening', pubkey: toHex(pubkey), addresses }) + '\n');
    return writeOut([`pubkey ${toHex(pubkey)}`, ...addresses.map((a) => `listening on ${a}`)].join('\n') + '\n');
  }

  message(command: string, m: Message): void {
    const request = m.replyTag !== undefined;
    const pubkey = m.conn.pubkey.length > 0 ? toHex(m.conn.pubkey) : null;
    let out: string;
    if (this.format === 'json') {
      out = JSON.stringify({ event: 'message', command, request, remote: m.remote, pubkey, parts: m.data.map(jsonPart) }) + '\n';
    } else {
      const n = m.data.length;
      out = `${command}${request ? ' (request)' : ''} from ${m.remote}${pubkey ? `, pubkey ${pubkey}` : ''}: ${n} part${n === 1 ? '' : 's'}\n`;
      for (const p of m.data) out += `  ${logPart(p, this.format, '  ')}\n`;
    }
    void writeOut(out);
  }

  stopped(): Promise<void> {
    return writeOut(this.format === 'json' ? JSON.stringify({ event: 'stopped' }) + '\n' : 'stopped\n');
  }
}

/** Resolves on the first SIGINT/SIGTERM; a second one while stopping exits at once. */
export function stopSignal(name = 'serve'): { stopped: Promise<void>; dispose: () => void } {
  let signalled = false;
  let resolve!: () => void;
  const stopped = new Promise<void>((r) => (resolve = r));
  const on = (sig: NodeJS.Signals) => {
    if (!signalled) {
      signalled = true;
      resolve();
      return;
    }
    writeErr(`oxenmq ${name}: ${sig} again, exiting without a clean stop`);
    process.exit(sig === 'SIGINT' ? 130 : 143); // 128 + the signal's number, as shells report it
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return {
    stopped,
    dispose: () => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    },
  };
}

/** `oxenmq serve`. */
export const serve = command(OPTIONS, HELP.serve, async ({ values, positionals }) => {
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const plain = (values.listen ?? []).map((b) => checkBind(b, '--listen'));
  const curve = (values['curve-listen'] ?? []).map((b) => checkBind(b, '--curve-listen'));
  if (plain.length + curve.length === 0) throw new UsageError('nothing to listen on: give --listen or --curve-listen');
  const format = formatOf(values);
  const keys = values.seckey === undefined ? undefined : await loadSeckey(values.seckey);

  const omq = new OxenMQ({ ...keys, ...logOptions(values.verbose) });
  const print = new Printer(format);
  omq
    .addCategory('echo', AuthLevel.none)
    .addRequestCommand('echo', (m) => {
      print.message('echo.echo', m);
      m.sendReply(...m.data);
    })
    .addRequestCommand('ping', (m) => {
      print.message('echo.ping', m);
      m.sendReply('pong');
    })
    .addCommand('log', (m) => print.message('echo.log', m));
  const bound = [...plain.map((b) => omq.listenPlain(b)), ...curve.map((b) => omq.listenCurve(b))];
  const isCurve = [...plain.map(() => false), ...curve.map(() => true)];

  // Listening for signals from the start: one during start() still stops cleanly.
  const signal = stopSignal();
  try {
    try {
      await omq.start();
    } catch (err) {
      if (!isOmqError(err, OmqErrorCode.BIND_FAILED)) throw err;
      writeErr(`oxenmq serve: ${err.message}`);
      return Exit.CONNECT;
    }
    const endpoints = await Promise.all(bound);
    await print.listening(
      omq.pubkey,
      endpoints.map((ep, i) => connectAddress(ep, isCurve[i]!, omq.pubkey)),
    );
    await signal.stopped;
    await omq.close(STOP_LINGER_MS);
    await print.stopped();
    return Exit.OK;
  } finally {
    await omq.close(0);
    signal.dispose();
  }
});
