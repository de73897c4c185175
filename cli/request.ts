/**
 * `oxenmq request` and `oxenmq send`: connect to a listener as `connectRemote` does (HI, then
 * wait for HELLO), send one message, and for a request print the reply.
 *
 * Exit codes say what went wrong without parsing stderr (see {@link Exit}): an error reply from
 * the remote (`[FORBIDDEN][REPLY][tag]` and its kin, upstream `oxenmq/proxy.cpp`) is 2, no
 * reply in time 3, no connection 4.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Address, type ConnectionID, type OmqError, OmqErrorCode, OxenMQ, RequestError, isOmqError } from '../lib/index.js';
import {
  Exit,
  FORMAT_OPTIONS,
  type Format,
  UsageError,
  VERBOSE_OPTION,
  command,
  formatOf,
  loadParts,
  loadSeckey,
  parseKeyText,
  parseMs,
  readStdin,
} from './args.js';
import { logOptions, writeErr, writeOut } from './io.js';
import { probe, probeFailure } from './probe.js';
import { renderReply } from './render.js';
import { HELP } from './usage.js';

/** Default of `--timeout`: C++ oxenmq's default request timeout. */
export const DEFAULT_TIMEOUT_MS = 15_000;

const SEND_OPTIONS = {
  ...VERBOSE_OPTION,
  timeout: { type: 'string' },
  'connect-timeout': { type: 'string' },
  seckey: { type: 'string' },
  pubkey: { type: 'string' },
  'hex-args': { type: 'boolean' },
} as const;

const REQUEST_OPTIONS = { ...SEND_OPTIONS, ...FORMAT_OPTIONS } as const;

/** What `request` and `send` were asked to do, checked. */
interface Invocation {
  readonly address: Address;
  readonly shown: string;
  readonly command: string;
  readonly parts: Uint8Array[];
  readonly timeout: number;
  readonly connectTimeout: number;
  readonly keys: { privkey: Uint8Array; pubkey: Uint8Array } | undefined;
  readonly verbose: boolean;
  readonly format: Format;
}

interface Values {
  timeout?: string;
  'connect-timeout'?: string;
  seckey?: string;
  pubkey?: string;
  'hex-args'?: boolean;
  verbose?: boolean;
  hex?: boolean;
  json?: boolean;
  bt?: boolean;
}

async function invocation(values: Values, positionals: string[]): Promise<Invocation> {
  if (positionals.length < 2) throw new UsageError(positionals.length === 0 ? 'missing ADDRESS and COMMAND' : 'missing COMMAND');
  const [shown, command, ...partArgs] = positionals as [string, string, ...string[]];
  let address: Address;
  try {
    address = Address.parse(shown);
  } catch (err) {
    throw new UsageError(`${JSON.stringify(shown)} is not an OxenMQ address: ${(err as Error).message}`);
  }
  if (values.pubkey !== undefined) {
    if (address.curve) throw new UsageError('--pubkey is for an address without a key, and this one has one');
    address.setPubkey(parseKeyText(values.pubkey, '--pubkey'));
  }
  const timeout = values.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseMs(values.timeout, '--timeout');
  const connectTimeout = values['connect-timeout'] === undefined ? timeout : parseMs(values['connect-timeout'], '--connect-timeout');
  const format = formatOf(values);
  // Keys and parts last: they read files and stdin, which a usage error should not wait for.
  const keys = values.seckey === undefined ? undefined : await loadSeckey(values.seckey);
  const parts = await loadParts(partArgs, { hexArgs: !!values['hex-args'], readStdin });
  return { address, shown, command, parts, timeout, connectTimeout, keys, verbose: !!values.verbose, format };
}

/**
 * Runs the client side: an instance with our key, the connection, then `act` on it. The
 * instance is always closed; `linger` is how long its close may spend writing what is queued.
 */
async function withConnection(inv: Invocation, what: string, act: (omq: OxenMQ, conn: ConnectionID) => Promise<{ code: number; linger: number }>): Promise<number> {
  const omq = new OxenMQ({ ...inv.keys, ...logOptions(inv.verbose), generalThreads: 1 });
  let linger = 0;
  try {
    await omq.start();
    const connected = await connect(omq, inv);
    if (typeof connected === 'string') {
      writeErr(`oxenmq ${what}: cannot connect to ${inv.shown}: ${connected}`);
      return Exit.CONNECT;
    }
    const r = await act(omq, connected);
    linger = r.linger;
    return r.code;
  } finally {
    // Also ends a connect still retrying after a refusal the probe saw.
    await omq.close(linger);
  }
}

/**
 * How long a connect may take before we look whether anything accepts connections there: long
 * enough for a CURVE connect over a 100 ms round trip (about five round trips, TCP to HELLO),
 * short enough that a refusal still reads as immediate.
 */
const PROBE_AFTER_MS = 500;

/**
 * Connects; resolves with the connection, or with why there is none. A connect that has not
 * succeeded after {@link PROBE_AFTER_MS} may be retrying a refused socket: a probe then tells
 * that at once instead of at the connect timeout. (A prompt connect makes no probe, so a healthy
 * node never sees one.)
 */
async function connect(omq: OxenMQ, inv: Invocation): Promise<ConnectionID | string> {
  const started = Date.now();
  const attempt = omq.connectRemote(inv.address, { timeout: inv.connectTimeout }).catch((err: unknown) => {
    if (!isOmqError(err, OmqErrorCode.CONNECT_FAILED)) throw err;
    return /timed out/.test(err.message) ? timedOut(inv) : err.message;
  });
  // Should we give up on it below, close() still settles it: that must not be unhandled.
  attempt.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const slow = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), PROBE_AFTER_MS)));
  const early = await Promise.race([attempt, slow]);
  clearTimeout(timer);
  if (early !== undefined) return early;
  const seen = await probe(inv.address, Math.max(1, inv.connectTimeout - (Date.now() - started)));
  return seen === 'connected' || seen === 'timeout' ? attempt : probeFailure(seen);
}

/** A connect that did not complete in time; on CURVE most often a wrong server key (it is silent). */
function timedOut(inv: Invocation): string {
  const hint = inv.address.curve ? 'nothing answering, or not the server key of this listener' : 'nothing answering, or not a plain OxenMQ listener';
  return `not established within ${inv.connectTimeout} ms (${hint})`;
}

/** `oxenmq request`. */
export const request = command(REQUEST_OPTIONS, HELP.request, async ({ values, positionals }) => {
  const inv = await invocation(values, positionals);
  return withConnection(inv, 'request', async (omq, conn) => {
    try {
      const reply = await omq.request(conn, inv.command, inv.parts, { timeout: inv.timeout });
      await writeOut(renderReply(reply, inv.format));
      return { code: Exit.OK, linger: 0 };
    } catch (err) {
      if (!(err instanceof RequestError)) throw err;
      return { code: requestFailure(err, inv), linger: 0 };
    }
  });
});

function requestFailure(err: RequestError, inv: Invocation): number {
  switch (err.code) {
    case 'TIMEOUT':
      writeErr(`FAIL TIMEOUT: no reply to ${inv.command} within ${inv.timeout} ms`);
      return Exit.TIMEOUT;
    case OmqErrorCode.SEND_FAILED:
    case OmqErrorCode.CLOSED:
      // The connection went away between HELLO and the send.
      writeErr(`oxenmq request: ${err.message}`);
      return Exit.CONNECT;
    default:
      // One of the error names OxenMQ answers with; the library accepts no other.
      writeErr(`FAIL ${err.code}`);
      return Exit.REMOTE_ERROR;
  }
}

/** `oxenmq send`. */
export const send = command(SEND_OPTIONS, HELP.send, async ({ values, positionals }) => {
  const inv = await invocation(values, positionals);
  return withConnection(inv, 'send', async (omq, conn) => {
    let failure: OmqError | undefined;
    // Without a queueFull callback, a full queue is reported through queueFailure too.
    omq.send(conn, inv.command, ...inv.parts, { queueFailure: (err) => (failure = err) });
    // The failure callbacks run from a microtask of the scheduler: give them that turn.
    await nextTurn();
    if (failure !== undefined) {
      writeErr(`oxenmq send: ${inv.command} not sent: ${failure.message}`);
      return { code: Exit.CONNECT, linger: 0 };
    }
    // Sent: close() gets --timeout to write it out and end the connection gracefully.
    return { code: Exit.OK, linger: inv.timeout };
  });
});
