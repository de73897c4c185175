/**
 * Fuzz targets of the ZMTP wire layer (RFC 23, RFC 37): the frame decoder under random
 * segmentation, the greeting, metadata property lists and command bodies (ERROR, PING, READY).
 * Everything a peer can send reaches one of these; the only acceptable throw is a ZmtpError.
 */
import { isZmtpError } from '../../zmtp/errors.js';
import { commandData, commandName, decodeErrorReason, encodeCommand, encodeError, isCommand } from '../../zmtp/command.js';
import { Decoder } from '../../zmtp/decoder.js';
import { FLAG_COMMAND, FLAG_LONG, FLAG_MORE, frameHeader } from '../../zmtp/frame.js';
import { GREETING_SIZE, checkGreetingPrefix, decodeGreeting, encodeGreeting } from '../../zmtp/greeting.js';
import { decodePing, encodePing } from '../../zmtp/heartbeat.js';
import { decodeMetadata, encodeMetadata } from '../../zmtp/metadata.js';
import type { Rng } from '../helpers/random.js';
import { splitAt } from '../helpers/random.js';
import { ascii, chance, cuts, mutate, pick, size } from './mutate.js';
import { type FuzzTarget, check } from './runner.js';
import { nodeBuf } from '../helpers/bytes.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

interface StreamInput {
  data: Uint8Array;
  cuts: number[];
  maxMessageSize: number;
  greeting: boolean;
  /** The frames the valid stream encodes, or null once it was mutated. */
  expected: string[] | null;
}

/** One decoded frame as comparable text. */
const frameKey = (flags: number, body: Uint8Array) => `${flags & ~FLAG_LONG}:${hex(body)}`;

/** Decodes `chunks` in order: the frames produced and the error code it stopped with. */
function decodeChunks(chunks: Uint8Array[], input: StreamInput): { frames: string[]; error: string | null; thrown?: unknown } {
  const frames: string[] = [];
  const d = new Decoder(
    {
      onGreeting: (g) => frames.push(`greeting:${hex(g)}`),
      onFrame: (flags, body) => frames.push(frameKey(flags, body)),
    },
    { maxMessageSize: input.maxMessageSize },
    input.greeting,
  );
  for (const c of chunks) {
    try {
      d.push(c);
    } catch (err) {
      if (!isZmtpError(err)) throw err;
      // A failed decoder stays failed, with the same error.
      try {
        d.push(Buffer.from([0]));
      } catch (again) {
        check(again === err, 'a failed decoder threw a different error on the next push');
      }
      return { frames, error: err.code, thrown: err };
    }
  }
  return { frames, error: null };
}

/** The frame decoder fed valid and mutated streams whole and cut at random points. */
export const decoderTarget: FuzzTarget<StreamInput> = {
  name: 'decoder',
  description: 'zmtp Decoder: valid/mutated greeting + frames, whole vs randomly segmented',
  generate(rng) {
    const greeting = chance(rng, 0.4);
    const parts: Uint8Array[] = [];
    const expected: string[] = [];
    if (greeting) {
      const g = encodeGreeting(pick(rng, ['NULL', 'CURVE']), rng.int(256));
      parts.push(g);
      expected.push(`greeting:${hex(g)}`);
    }
    let largest = 0;
    const n = rng.int(8);
    for (let i = 0; i < n; i++) {
      const flags = pick(rng, [0, 0, FLAG_MORE, FLAG_COMMAND]);
      const body = rng.bytes(size(rng, 700));
      largest = Math.max(largest, body.length);
      // Sometimes a LONG header for a short body: legal (libzmq accepts it), rarely sent.
      if (body.length <= 255 && chance(rng, 0.1)) {
        const h = Buffer.alloc(9);
        h[0] = flags | FLAG_LONG;
        h.writeUInt32BE(body.length, 5);
        parts.push(h, body);
      } else {
        parts.push(frameHeader(flags, body.length), body);
      }
      expected.push(frameKey(flags, body));
    }
    const maxMessageSize = chance(rng, 0.7) ? -1 : rng.int(800);
    let data: Uint8Array = Buffer.concat(parts);
    let valid = maxMessageSize < 0 || largest <= maxMessageSize;
    if (chance(rng, 0.6)) {
      data = mutate(rng, data);
      valid = false;
    }
    return { data, cuts: cuts(rng, data.length), maxMessageSize, greeting, expected: valid ? expected : null };
  },
  run(input) {
    const whole = decodeChunks([Buffer.from(input.data)], input);
    const split = decodeChunks(splitAt(input.data, input.cuts), input);
    check(
      whole.error === split.error && whole.frames.join() === split.frames.join(),
      'segmentation changed the decoded frames or the error',
    );
    if (input.expected !== null) {
      check(whole.error === null, 'a valid stream was rejected');
      check(whole.frames.join() === input.expected.join(), 'a valid stream decoded to other frames');
    }
    if (whole.thrown !== undefined) throw whole.thrown;
  },
  accepts: (err) => isZmtpError(err),
  show: (i) => `maxMessageSize=${i.maxMessageSize} greeting=${i.greeting} cuts=[${i.cuts.join(',')}] data=${hex(i.data)}`,
};

interface GreetingInput {
  bytes: Uint8Array;
  expectMechanism: string;
  mutated: boolean;
}

/** Greetings: the early prefix check on every prefix length, and the full 64-byte parse. */
export const greetingTarget: FuzzTarget<GreetingInput> = {
  name: 'greeting',
  description: 'checkGreetingPrefix on every prefix, decodeGreeting on 64-byte inputs',
  generate(rng) {
    const mech = pick(rng, ['NULL', 'CURVE', 'PLAIN', ascii(rng, 1 + rng.int(20))]);
    let bytes = encodeGreeting(mech, rng.int(300));
    const mutated = chance(rng, 0.7);
    if (mutated) {
      bytes = mutate(rng, bytes);
      // Mostly keep the full length so the mechanism and version fields are reached.
      if (bytes.length !== GREETING_SIZE && chance(rng, 0.7)) {
        bytes = Buffer.concat([bytes, Buffer.alloc(GREETING_SIZE)]).subarray(0, GREETING_SIZE);
      }
    }
    return { bytes, expectMechanism: chance(rng, 0.5) ? mech : pick(rng, ['NULL', 'CURVE']), mutated };
  },
  run({ bytes, expectMechanism, mutated }) {
    const upTo = Math.min(bytes.length, GREETING_SIZE);
    let prefixError: unknown = null;
    for (let n = 0; n <= upTo && prefixError === null; n++) {
      try {
        checkGreetingPrefix(bytes, n);
      } catch (err) {
        if (!isZmtpError(err)) throw err;
        prefixError = err;
      }
    }
    if (bytes.length !== GREETING_SIZE) {
      if (prefixError !== null) throw prefixError;
      return;
    }
    let g: ReturnType<typeof decodeGreeting>;
    try {
      g = decodeGreeting(bytes, expectMechanism);
    } catch (err) {
      check(isZmtpError(err), 'decodeGreeting threw something other than a ZmtpError');
      throw err;
    }
    check(prefixError === null, 'decodeGreeting accepted a greeting whose prefix was refused');
    check(g.mechanism === expectMechanism && g.major >= 3, 'decodeGreeting accepted another mechanism or version');
    if (!mutated) check(nodeBuf(bytes.subarray(12, 32)).toString('latin1').replace(/\0+$/, '') === g.mechanism, 'mechanism misread');
  },
  accepts: (err) => isZmtpError(err),
  show: (i) => `expect=${i.expectMechanism} bytes=${hex(i.bytes)}`,
};

interface MetadataInput {
  data: Uint8Array;
  expected: Map<string, string> | null;
}

function randomProps(rng: Rng): [string, Buffer][] {
  const props: [string, Buffer][] = [];
  const n = rng.int(7);
  for (let i = 0; i < n; i++) {
    const name = chance(rng, 0.5)
      ? pick(rng, ['Socket-Type', 'Identity', 'User-Id', 'X-Custom', 'socket-type'])
      : ascii(rng, chance(rng, 0.05) ? 255 : 1 + rng.int(20));
    props.push([name, rng.bytes(size(rng, 400))]);
  }
  return props;
}

/**
 * RFC 37's property grammar read the plain way, field by field, as the differential oracle:
 * `name-length:u8 (1–255) ‖ name ‖ value-length:u32be ‖ value`, repeated to the exact end; null
 * when malformed. Duplicate names: the last wins, in first-seen order (a Map's).
 */
function referenceMetadata(d: Uint8Array): Map<string, Uint8Array> | null {
  const m = new Map<string, Uint8Array>();
  let o = 0;
  while (o < d.length) {
    const n = d[o]!;
    if (n === 0 || d.length - o - 1 < n + 4) return null;
    const name = nodeBuf(d).toString('latin1', o + 1, o + 1 + n).toLowerCase();
    const len = nodeBuf(d).readUInt32BE(o + 1 + n);
    const start = o + 1 + n + 4;
    if (d.length - start < len) return null;
    m.set(name, d.subarray(start, start + len));
    o = start + len;
  }
  return m;
}

/** Metadata property lists (READY, INITIATE): round trip, then mutated, against a reference reading. */
export const metadataTarget: FuzzTarget<MetadataInput> = {
  name: 'metadata',
  description: 'decodeMetadata: encodeMetadata round trip, then mutated property lists, against a reference reading',
  generate(rng) {
    const props = randomProps(rng);
    const data = encodeMetadata(props);
    if (chance(rng, 0.6)) return { data: mutate(rng, data, encodeMetadata(randomProps(rng))), expected: null };
    const expected = new Map<string, string>();
    for (const [name, value] of props) expected.set(name.toLowerCase(), hex(value)); // last one wins
    return { data, expected };
  },
  run({ data, expected }) {
    const ref = referenceMetadata(data);
    let m: Map<string, Uint8Array>;
    try {
      m = decodeMetadata(data);
    } catch (err) {
      check(ref === null, 'decodeMetadata refused a property list the reference reading accepts');
      throw err;
    }
    check(ref !== null, 'decodeMetadata accepted a property list the reference reading refuses');
    check([...m].map(([k, v]) => `${k}=${hex(v)}`).join() === [...ref].map(([k, v]) => `${k}=${hex(v)}`).join(), 'decodeMetadata disagrees with the reference reading');
    if (expected !== null) {
      check(m.size === expected.size, 'round trip changed the property count');
      for (const [name, value] of expected) check(m.has(name) && hex(m.get(name)!) === value, 'round trip changed a property');
    }
  },
  accepts: (err) => isZmtpError(err),
  show: (i) => hex(i.data),
};

interface CommandInput {
  body: Uint8Array;
  name: string;
  data: Uint8Array;
  mutated: boolean;
}

/** Command bodies and the ones the engine parses further: ERROR reasons, PING, READY. */
export const commandTarget: FuzzTarget<CommandInput> = {
  name: 'command',
  description: 'commandName/commandData/isCommand, ERROR reason, PING, READY metadata: round trip, then mutated',
  generate(rng) {
    const kind = rng.int(5);
    let body: Uint8Array;
    if (kind === 0) body = encodeError(ascii(rng, rng.int(300)));
    else if (kind === 1) body = encodePing(rng.int(7_000_000), rng.bytes(rng.int(20)));
    else if (kind === 2) body = encodeCommand('READY', encodeMetadata(randomProps(rng)));
    else body = encodeCommand(ascii(rng, 1 + rng.int(chance(rng, 0.05) ? 255 : 20)), rng.bytes(size(rng, 300)));
    const name = nodeBuf(body).toString('latin1', 1, 1 + body[0]!);
    const data = Buffer.from(body.subarray(1 + body[0]!));
    const mutated = chance(rng, 0.6);
    return { body: mutated ? mutate(rng, body) : body, name, data, mutated };
  },
  run({ body, name, data, mutated }) {
    const n = commandName(body);
    const d = commandData(body);
    check(isCommand(body, n), 'isCommand disagrees with commandName');
    if (!mutated) check(n === name && nodeBuf(d).equals(data), 'command round trip changed the name or data');
    if (n === 'ERROR') decodeErrorReason(d);
    else if (n === 'PING') {
      const p = decodePing(d);
      check(p.context.length <= 16 && p.ttlMs >= 0, 'PING context or TTL out of range');
    } else if (n === 'READY') decodeMetadata(d);
  },
  accepts: (err) => isZmtpError(err),
  show: (i) => hex(i.body),
};
