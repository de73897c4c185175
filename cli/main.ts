#!/usr/bin/env node
/**
 * oxenmq: a command-line client for OxenMQ nodes (requests, plain messages, keys) and a small
 * node to test against. Each subcommand lives in its own module; this one picks it, turns
 * expected failures into one line on stderr and an exit code, and makes sure the process ends.
 */
import { readFileSync } from 'node:fs';
import { Exit, InputError, UsageError } from './args.js';
import { writeErr, writeOut } from './io.js';
import { HELP, OVERVIEW, type Subcommand, USAGE_LINE } from './usage.js';

type Run = (args: readonly string[]) => Promise<number>;

// Loaded on use: keygen and --help need not load the whole OxenMQ stack.
const SUBCOMMANDS: Record<Subcommand, () => Promise<Run>> = {
  request: async () => (await import('./request.js')).request,
  send: async () => (await import('./request.js')).send,
  keygen: async () => (await import('./keygen.js')).keygen,
  serve: async () => (await import('./serve.js')).serve,
  gateway: async () => (await import('./gateway.js')).gateway,
};

function isSubcommand(name: string | undefined): name is Subcommand {
  return name !== undefined && Object.hasOwn(SUBCOMMANDS, name);
}

/** The package version, from the package.json two levels above dist/cli/. */
function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = args[0];
    await writeOut(isSubcommand(topic) ? HELP[topic] : OVERVIEW);
    return Exit.OK;
  }
  if (name === '--version') {
    await writeOut(`oxenmq ${version()}\n`);
    return Exit.OK;
  }
  if (!isSubcommand(name)) {
    writeErr(name === undefined ? 'oxenmq: missing command' : `oxenmq: unknown command ${JSON.stringify(name)}`);
    writeErr(`usage: oxenmq request|send|keygen|serve|gateway ... (see oxenmq --help)`);
    return Exit.USAGE;
  }
  try {
    return await (await SUBCOMMANDS[name]())(args);
  } catch (err) {
    if (err instanceof UsageError) {
      writeErr(`oxenmq ${name}: ${err.message}`);
      writeErr(`usage: ${USAGE_LINE[name]} (see oxenmq ${name} --help)`);
      return Exit.USAGE;
    }
    if (err instanceof InputError) {
      writeErr(`oxenmq ${name}: ${err.message}`);
      return Exit.USAGE;
    }
    // Not an expected failure: a bug, shown with its stack so it can be reported.
    writeErr(`oxenmq ${name}: internal error: ${(err as Error)?.stack ?? String(err)}`);
    return Exit.USAGE;
  }
}

// stdout closed early (`| head`) is the reader's choice, not an error of ours.
process.stdout.on('error', () => {});
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // Every path closes its instance, so the process ends by itself; should anything still hold the
  // event loop, end it anyway rather than hang.
  setTimeout(() => process.exit(code), 2000).unref();
});
