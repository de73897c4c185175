/**
 * Command-line parsing shared by the subcommands: `node:util` parseArgs with usage errors of our
 * own, the exit codes, and the arguments that name bytes — keys (`--seckey`, `--pubkey`),
 * message parts (`@FILE`, `-`, hex) and timeouts.
 */
import { readFile } from 'node:fs/promises';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { publicKeyFromSecret } from '../curve/index.js';
import { fromHex, isHex, parsePubkey } from '../lib/oxenc/index.js';
import { writeOut } from './io.js';

/** The exit codes of every subcommand. */
export const Exit = {
  /** The reply arrived (request), the message went out (send), the command did its job. */
  OK: 0,
  /** Bad usage, or a local input (file, key) that cannot be used. */
  USAGE: 1,
  /** The remote answered the request with an error (FORBIDDEN, FORBIDDEN_SN, …). */
  REMOTE_ERROR: 2,
  /** No reply within the request timeout. */
  TIMEOUT: 3,
  /** The connection could not be made (refused, wrong key, timed out) or a listener not bound. */
  CONNECT: 4,
} as const;

/** Bad usage: reported as one line plus the subcommand's usage line, exit {@link Exit.USAGE}. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A local input that cannot be used (unreadable file, malformed key file): one line, exit 1. */
export class InputError extends Error {
  override readonly name = 'InputError';
}

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

/** The option every subcommand takes. */
const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

/** Output formats of reply parts and of what `serve` receives. */
export type Format = 'text' | 'hex' | 'json' | 'bt';

/** The options choosing a {@link Format}; at most one may be given. */
export const FORMAT_OPTIONS = {
  hex: { type: 'boolean' },
  json: { type: 'boolean' },
  bt: { type: 'boolean' },
} as const satisfies Options;

/** `--verbose`: the library's log lines (connection attempts, unknown commands) on stderr. */
export const VERBOSE_OPTION = {
  verbose: { type: 'boolean', short: 'v' },
} as const satisfies Options;

/**
 * A subcommand's entry: parses its command line (with `--help` added), prints `help` when asked
 * to, else runs `run` on what was parsed.
 */
export function command<O extends Options>(options: O, help: string, run: (parsed: Parsed<O>) => Promise<number>): (args: readonly string[]) => Promise<number> {
  return async (args) => {
    const parsed = parse(args, { ...COMMON_OPTIONS, ...options });
    if ((parsed.values as { help?: boolean }).help) {
      await writeOut(help);
      return Exit.OK;
    }
    return run(parsed as unknown as Parsed<O>);
  };
}

/**
 * parseArgs in strict mode with positionals; its own errors (unknown option, missing value)
 * become {@link UsageError}s.
 */
function parse<O extends Options>(args: readonly string[], options: O): Parsed<O> {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) throw new UsageError((err as Error).message);
    throw err;
  }
}

/** The one format chosen by `--hex` / `--json` / `--bt` (text when none). */
export function formatOf(values: { hex?: boolean; json?: boolean; bt?: boolean }): Format {
  const chosen = (['hex', 'json', 'bt'] as const).filter((f) => values[f]);
  if (chosen.length > 1) throw new UsageError(`--${chosen.join(' and --')} cannot be combined`);
  return chosen[0] ?? 'text';
}

/** A duration in whole milliseconds, at least 1. */
export function parseMs(value: string, option: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${option} takes a whole number of milliseconds, not ${JSON.stringify(value)}`);
  const ms = Number(value);
  if (!Number.isSafeInteger(ms) || ms < 1 || ms > 2 ** 31 - 1) throw new UsageError(`${option} must be between 1 and ${2 ** 31 - 1} ms`);
  return ms;
}

/** A 32-byte key given as 64 hex, 52 base32z or 43/44 base64 characters. */
export function parseKeyText(text: string, what: string): Uint8Array {
  try {
    return Uint8Array.from(parsePubkey(text));
  } catch {
    throw new UsageError(`${what} must be a 32-byte key in hex, base32z or base64`);
  }
}

async function readInput(path: string, what: string): Promise<Buffer> {
  if (path.length === 0) throw new UsageError(`${what}: @ must be followed by a file name`);
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new InputError(`cannot read ${path} (${what}): ${typeof code === 'string' ? code : (err as Error).message}`);
  }
}

/**
 * Our keypair from `--seckey`: the secret key as text, or `@FILE` holding it either as text on
 * its first line (what `oxenmq keygen` writes; later lines are ignored) or as 32 raw bytes (as
 * oxend keeps its `key_x25519`). The public key is derived from it.
 */
export async function loadSeckey(value: string): Promise<{ privkey: Uint8Array; pubkey: Uint8Array }> {
  let privkey: Uint8Array;
  if (value.startsWith('@')) {
    const path = value.slice(1);
    const bytes = await readInput(path, '--seckey');
    const firstLine = bytes.toString('latin1').split(/\r?\n/, 1)[0]!.trim();
    try {
      privkey = Uint8Array.from(parsePubkey(firstLine));
    } catch {
      // 32 bytes cannot be a key in text form (those are 43 characters or more).
      if (bytes.length !== 32) {
        throw new InputError(`${path} holds no secret key: expected 32 raw bytes, or hex, base32z or base64 text on its first line`);
      }
      privkey = Uint8Array.from(bytes);
    }
    bytes.fill(0);
  } else {
    privkey = parseKeyText(value, '--seckey');
  }
  return { privkey, pubkey: publicKeyFromSecret(privkey) };
}

/** Where the bytes of one message part come from. */
export interface PartSource {
  /** Literal parts as UTF-8 text (default) or as hex (`--hex-args`). */
  readonly hexArgs: boolean;
  /** Reads standard input to its end; called at most once. */
  readonly readStdin: () => Promise<Buffer>;
}

/**
 * The message parts named on the command line: `@FILE` is the file's bytes, `-` standard input
 * (once), `@@…` a literal part starting with `@`, anything else the argument itself — as UTF-8,
 * or decoded from hex with `--hex-args`.
 */
export async function loadParts(args: readonly string[], source: PartSource): Promise<Uint8Array[]> {
  if (args.filter((a) => a === '-').length > 1) throw new UsageError('standard input (-) can be used for one part only');
  const parts: Uint8Array[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-') parts.push(await source.readStdin());
    else if (a.startsWith('@@')) parts.push(literal(a.slice(1), i, source.hexArgs));
    else if (a.startsWith('@')) parts.push(await readInput(a.slice(1), `part ${i + 1}`));
    else parts.push(literal(a, i, source.hexArgs));
  }
  return parts;
}

function literal(a: string, index: number, hex: boolean): Uint8Array {
  if (!hex) return Buffer.from(a, 'utf8');
  if (!isHex(a)) throw new UsageError(`part ${index + 1} is not hex (--hex-args): an even number of 0-9, a-f, A-F characters`);
  return fromHex(a);
}

/** Reads all of standard input. */
export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
