/**
 * OxenMQ address strings (C++ `oxenmq::address`, upstream `oxenmq/address.cpp`).
 *
 * Accepted forms (protocol names are case-sensitive):
 *
 *   tcp://HOST:PORT                                   plaintext TCP
 *   curve://HOST:PORT/PUBKEY, tcp+curve://HOST:PORT/PUBKEY   CURVE TCP
 *   ipc://PATH                                        plaintext Unix socket
 *   ipc+curve://PATH/PUBKEY                           CURVE Unix socket
 *   ws://HOST:PORT/PATH, wss://HOST:PORT/PATH         plaintext ZWS 2.0 WebSocket (wss: over TLS)
 *   ws+curve://HOST:PORT/PATH/PUBKEY, wss+curve://…   CURVE over a WebSocket
 *   TCP://HOST:PORT, CURVE://HOST:PORT/PUBKEY         QR-code friendly forms
 *
 * PUBKEY is 64 hex, 52 base32z or (not in QR forms) 43 base64 characters, optionally followed by
 * one `=`. Parsing mirrors upstream exactly, including its leniencies (leading zeros in the port,
 * an empty `ipc+curve` path before the key); the one deliberate difference is that an over-long
 * port is reported as a bad address like any other bad port (upstream's `std::stoi` throws
 * `out_of_range` instead).
 *
 * The WebSocket forms are ours (upstream's parser has none; libzmq binds `ws://HOST:PORT/PATH`):
 * the PATH (printable ASCII, no `?`, `#` or space) defaults to `/`; in the CURVE forms the last
 * path segment is the key, as for `ipc+curve://`, so `ws+curve://h:1/KEY` has the path `/`.
 */
import { bytesEqual } from '../zmtp/index.js';
import { OmqError, OmqErrorCode } from './errors.js';
import { fromBase32z, fromBase64, fromHex, isBase32z, isBase64, isHex, toBase32z, toBase64, toHex } from './oxenc/index.js';

/** Transport of an address: TCP, a Unix-domain ("ipc") socket, or a WebSocket (plain or TLS). */
export type AddressProtocol = 'tcp' | 'ipc' | 'ws' | 'wss';

/** Key encodings {@link Address.fullAddress} can write; `BASE32Z` is upper-case base32z. */
export type AddressKeyEncoding = 'base32z' | 'hex' | 'base64' | 'BASE32Z';

const KEY_BYTES = 32;
const HEX_LEN = 64;
const B32Z_LEN = 52;
const B64_LEN = 43;

function badAddress(message: string, cause?: unknown): OmqError {
  return new OmqError(OmqErrorCode.BAD_ADDRESS, message, cause === undefined ? undefined : { cause });
}

/** QR alphanumeric minus the characters addresses never need (space, %, *, +). */
function isQrChar(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x24 || // $
    c === 0x3a || // :
    c === 0x2f || // /
    c === 0x2e || // .
    c === 0x2d // -
  );
}

/** Characters allowed inside a bracketed IPv6 literal: `:`, `.`, hex digits. */
function isIpv6Char(c: number): boolean {
  return c === 0x3a || c === 0x2e || (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

function asciiUpper(s: string): string {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
}

/** Copies a caller's key so later mutation of their array cannot change this address. */
function copyKey(pubkey: Uint8Array): Uint8Array {
  if (!(pubkey instanceof Uint8Array)) throw new TypeError('pubkey must be a Uint8Array');
  if (pubkey.length !== KEY_BYTES) throw badAddress(`pubkey must be ${KEY_BYTES} bytes, got ${pubkey.length}`);
  return Uint8Array.from(pubkey);
}

function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw badAddress('port must be an integer in 1–65535');
  return port;
}

/**
 * Decodes the key at the start of `s` (upstream's order: hex, then base32z, then — not for QR —
 * base64 with an optional `=`), requiring it to run to the end of the string.
 */
function decodeTrailingKey(s: string, qr: boolean): Uint8Array {
  let key: Uint8Array;
  let used: number;
  if (s.length >= HEX_LEN && isHex(s.slice(0, HEX_LEN))) {
    key = fromHex(s.slice(0, HEX_LEN));
    used = HEX_LEN;
  } else if (s.length >= B32Z_LEN && isBase32z(s.slice(0, B32Z_LEN))) {
    key = fromBase32z(s.slice(0, B32Z_LEN));
    used = B32Z_LEN;
  } else if (!qr && s.length >= B64_LEN && isBase64(s.slice(0, B64_LEN))) {
    key = fromBase64(s.slice(0, B64_LEN));
    used = B64_LEN;
    if (s.charCodeAt(used) === 0x3d) used++; // eat one padding '='
  } else {
    throw badAddress('no valid pubkey found after the port');
  }
  if (used !== s.length) throw badAddress('unexpected trailing data after the pubkey');
  if (key.length !== KEY_BYTES) throw badAddress(`the pubkey must be ${KEY_BYTES} bytes`);
  return key;
}

interface TcpParts {
  host: string;
  port: number;
  pubkey: Uint8Array | undefined;
}

/** A WebSocket path: `/` then printable ASCII other than `?` and `#`. */
function isWsPath(path: string): boolean {
  return /^\/[\x21-\x7e]*$/.test(path) && !path.includes('?') && !path.includes('#');
}

/** `HOST:PORT[/PATH]` (plain) or `HOST:PORT[/PATH]/PUBKEY` (CURVE). */
function parseWs(s: string, curve: boolean): TcpParts & { path: string } {
  const parts = parseTcp(s, false, false, true);
  let path = parts.rest;
  let pubkey: Uint8Array | undefined;
  if (curve) {
    const slash = path.lastIndexOf('/');
    if (slash < 0) throw badAddress('expected /PUBKEY after the port');
    pubkey = decodeTrailingKey(path.slice(slash + 1), false);
    path = path.slice(0, slash);
  }
  if (path === '') path = '/';
  if (!isWsPath(path)) throw badAddress('a WebSocket path must be printable ASCII without ?, # or spaces');
  return { host: parts.host, port: parts.port, pubkey, path };
}

function parseTcp(s: string, qr: boolean, expectKey: boolean, pathFollows = false): TcpParts & { rest: string } {
  let host: string;
  let rest: string;
  const first = s.charCodeAt(0);
  if (first === 0x5b /* [ */ || (qr && first === 0x24) /* $ */) {
    // Bracketed IPv6: runs over ':', '.', hex digits up to the closing ']' ('$' in QR form).
    let i = 1;
    while (i < s.length && isIpv6Char(s.charCodeAt(i))) i++;
    if (i >= s.length) throw badAddress('unterminated IPv6 address');
    const close = s.charCodeAt(i);
    if (!(close === 0x5d || (qr && close === 0x24))) throw badAddress(`expected ${qr ? '$' : ']'} to close the IPv6 address`);
    host = s.slice(0, i + 1);
    if (qr) host = '[' + host.slice(1, -1) + ']';
    rest = s.slice(i + 1);
  } else {
    const colon = s.indexOf(':');
    if (colon < 0) throw badAddress('no :port found');
    if (colon === 0) throw badAddress('empty host');
    host = s.slice(0, colon);
    rest = s.slice(colon);
  }
  // QR hosts arrive upper-case; addresses are stored the usual lower-case way.
  if (qr) host = asciiLower(host);

  if (rest.length < 2 || rest.charCodeAt(0) !== 0x3a) throw badAddress('no :port found');
  let i = 1;
  let port = 0;
  while (i < rest.length) {
    const c = rest.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    // Keep the value bounded however many digits there are; anything above 65535 is invalid.
    if (port <= 65535) port = port * 10 + (c - 0x30);
    i++;
  }
  if (i === 1) throw badAddress('port is not numeric');
  if (port === 0 || port > 65535) throw badAddress('port must be in 1–65535');
  rest = rest.slice(i);

  let pubkey: Uint8Array | undefined;
  if (pathFollows) {
    if (rest.length > 0 && rest.charCodeAt(0) !== 0x2f) throw badAddress('unexpected data after the port');
    return { host, port, pubkey, rest };
  }
  if (expectKey) {
    if (rest.length < 1 + (qr ? B32Z_LEN : B64_LEN) || rest.charCodeAt(0) !== 0x2f) {
      throw badAddress('expected /PUBKEY after the port');
    }
    pubkey = decodeTrailingKey(rest.slice(1), qr);
  } else if (rest.length > 0) {
    throw badAddress('unexpected trailing data after the port');
  }
  return { host, port, pubkey, rest: '' };
}

/** Splits `PATH/PUBKEY`, taking the key from the end (hex, then base32z, then base64). */
function parseIpcCurve(s: string): { socket: string; pubkey: Uint8Array } {
  const parts = splitIpcCurve(s);
  // A curve address carries exactly a 32-byte key: anything else would have to be refused or,
  // worse, be taken as "no key" and connect in plaintext.
  if (parts.pubkey.length !== KEY_BYTES) throw badAddress(`ipc+curve:// key must be ${KEY_BYTES} bytes`);
  return parts;
}

function splitIpcCurve(s: string): { socket: string; pubkey: Uint8Array } {
  const n = s.length;
  if (n > HEX_LEN && s.charCodeAt(n - HEX_LEN - 1) === 0x2f && isHex(s.slice(n - HEX_LEN))) {
    return { socket: s.slice(0, n - HEX_LEN - 1), pubkey: fromHex(s.slice(n - HEX_LEN)) };
  }
  if (n > B32Z_LEN && s.charCodeAt(n - B32Z_LEN - 1) === 0x2f && isBase32z(s.slice(n - B32Z_LEN))) {
    return { socket: s.slice(0, n - B32Z_LEN - 1), pubkey: fromBase32z(s.slice(n - B32Z_LEN)) };
  }
  const b64Len = n > 0 && s.charCodeAt(n - 1) === 0x3d ? B64_LEN + 1 : B64_LEN;
  if (n > b64Len && s.charCodeAt(n - b64Len - 1) === 0x2f && isBase64(s.slice(n - b64Len))) {
    return { socket: s.slice(0, n - b64Len - 1), pubkey: fromBase64(s.slice(n - b64Len)) };
  }
  throw badAddress('ipc+curve:// requires a trailing /PUBKEY');
}

/**
 * A parsed OxenMQ address: TCP or ipc, plain or CURVE (with the server's 32-byte pubkey).
 *
 * The transport fields are fixed at construction; the key (and with it `curve`) changes only
 * through {@link Address.setPubkey}.
 */
export class Address {
  /** `'tcp'`, `'ipc'`, `'ws'` or `'wss'`. */
  readonly protocol: AddressProtocol;
  /** TCP or WebSocket host, IPv6 literals kept with their brackets (e.g. `[::1]`); empty for ipc. */
  readonly host: string;
  /** TCP or WebSocket port (1–65535); 0 for ipc. */
  readonly port: number;
  /** ipc socket path; empty otherwise. */
  readonly socket: string;
  /** WebSocket HTTP path (`/` at least); empty otherwise. */
  readonly path: string;
  // A TS-private (not #private) field: the static factories build instances with
  // Object.create, which cannot install #private fields.
  private pk: Uint8Array | undefined;

  /**
   * Parses an address string (the forms above). With `pubkey`, the result is then given that key as by
   * {@link Address.setPubkey} (as C++ `address{str, pubkey}`).
   * @throws {OmqError} `ERR_OMQ_BAD_ADDRESS` if the string is not a valid address.
   */
  constructor(address: string, pubkey?: Uint8Array) {
    if (typeof address !== 'string') throw new TypeError('address must be a string');
    const sep = address.indexOf('://');
    if (sep <= 0) throw badAddress('no protocol found');
    const proto = address.slice(0, sep);
    const rest = address.slice(sep + 3);
    if (rest.length === 0) throw badAddress('nothing after the protocol');

    let tcp: boolean;
    let curve: boolean;
    let qr = false;
    const ws = /^wss?(\+curve)?$/.exec(proto);
    if (ws !== null) {
      const parts = parseWs(rest, ws[1] !== undefined);
      this.protocol = proto.startsWith('wss') ? 'wss' : 'ws';
      this.host = parts.host;
      this.port = parts.port;
      this.socket = '';
      this.path = parts.path;
      this.pk = parts.pubkey;
      if (pubkey !== undefined) this.setPubkey(pubkey);
      return;
    }
    switch (proto) {
      case 'tcp':
        tcp = true;
        curve = false;
        break;
      case 'tcp+curve':
      case 'curve':
        tcp = true;
        curve = true;
        break;
      case 'ipc':
        tcp = false;
        curve = false;
        break;
      case 'ipc+curve':
        tcp = false;
        curve = true;
        break;
      case 'TCP':
        tcp = true;
        curve = false;
        qr = true;
        break;
      case 'CURVE':
        tcp = true;
        curve = true;
        qr = true;
        break;
      default:
        throw badAddress('unknown protocol');
    }

    if (qr) {
      for (let i = 0; i < rest.length; i++) {
        if (!isQrChar(rest.charCodeAt(i))) throw badAddress('non-QR-alphanumeric character in a TCP:// or CURVE:// address');
      }
    }

    this.protocol = tcp ? 'tcp' : 'ipc';
    this.path = '';
    if (tcp) {
      const parts = parseTcp(rest, qr, curve);
      this.host = parts.host;
      this.port = parts.port;
      this.socket = '';
      this.pk = parts.pubkey;
    } else {
      this.host = '';
      this.port = 0;
      if (curve) {
        const parts = parseIpcCurve(rest);
        this.socket = parts.socket;
        this.pk = parts.pubkey;
      } else {
        this.socket = rest; // anything goes for a plain ipc path
        this.pk = undefined;
      }
    }
    if (pubkey !== undefined) this.setPubkey(pubkey);
  }

  /**
   * Parses an address string; same as `new Address(address)`.
   * @throws {OmqError} `ERR_OMQ_BAD_ADDRESS` if the string is not a valid address.
   */
  static parse(address: string): Address {
    return new Address(address);
  }

  /** Parses an address string, returning `undefined` instead of throwing on a malformed one. */
  static tryParse(address: string): Address | undefined {
    try {
      return new Address(address);
    } catch (err) {
      if (err instanceof OmqError && err.code === OmqErrorCode.BAD_ADDRESS) return undefined;
      throw err;
    }
  }

  /**
   * A plaintext TCP address.
   * @throws {OmqError} `ERR_OMQ_BAD_ADDRESS` for a port outside 1–65535.
   */
  static tcp(host: string, port: number): Address {
    return Address.build('tcp', host, port, '', undefined);
  }

  /**
   * A CURVE TCP address with the server's 32-byte pubkey.
   * @throws {OmqError} `ERR_OMQ_BAD_ADDRESS` for a bad port or a key that is not 32 bytes.
   */
  static tcpCurve(host: string, port: number, pubkey: Uint8Array): Address {
    return Address.build('tcp', host, port, '', copyKey(pubkey));
  }

  /** A plaintext Unix-socket address. */
  static ipc(path: string): Address {
    return Address.build('ipc', '', 0, path, undefined);
  }

  /**
   * A CURVE Unix-socket address with the server's 32-byte pubkey.
   * @throws {OmqError} `ERR_OMQ_BAD_ADDRESS` for a key that is not 32 bytes.
   */
  static ipcCurve(path: string, pubkey: Uint8Array): Address {
    return Address.build('ipc', '', 0, path, copyKey(pubkey));
  }

  /**
   * A ZWS 2.0 WebSocket address (`wss` for TLS), plain or, with the server's 32-byte pubkey, CURVE.
   * @throws {OmqError} `ERR_OMQ_BAD_ADDRESS` for a bad port or path, or a key that is not 32 bytes.
   */
  static ws(host: string, port: number, path = '/', pubkey?: Uint8Array, options: { tls?: boolean } = {}): Address {
    if (typeof path !== 'string') throw new TypeError('path must be a string');
    return Address.build(options.tls ? 'wss' : 'ws', host, port, '', pubkey === undefined ? undefined : copyKey(pubkey), path);
  }

  private static build(protocol: AddressProtocol, host: string, port: number, socket: string, pubkey: Uint8Array | undefined, path = ''): Address {
    if (typeof host !== 'string' || typeof socket !== 'string') throw new TypeError('host and path must be strings');
    if (protocol !== 'ipc') {
      checkPort(port);
      // An IPv6 literal is written in brackets in every address form.
      if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
    }
    const a = Object.create(Address.prototype) as Address;
    const w = a as unknown as { protocol: AddressProtocol; host: string; port: number; socket: string; path: string };
    w.protocol = protocol;
    w.host = host;
    w.port = port;
    w.socket = socket;
    w.path = path;
    a.pk = pubkey;
    // Whatever the parts, the result must be an address that parses back to itself: a host or
    // path that cannot be written (an empty host, a stray ':' or '/', an empty ipc path) is refused.
    let back: Address;
    try {
      back = new Address(a.fullAddress('hex'));
    } catch (err) {
      throw badAddress('host or path cannot be written as an address', err);
    }
    if (!back.equals(a)) throw badAddress('host or path cannot be written as an address');
    return a;
  }

  /** True when the connection uses CURVE encryption (the address carries a server pubkey). */
  get curve(): boolean {
    return this.pk !== undefined;
  }

  /** The server's 32-byte pubkey for CURVE addresses, else `undefined`. Do not mutate. */
  get pubkey(): Uint8Array | undefined {
    return this.pk;
  }

  /** True for TCP addresses. */
  get isTcp(): boolean {
    return this.protocol === 'tcp';
  }

  /** True for Unix-socket addresses. */
  get isIpc(): boolean {
    return this.protocol === 'ipc';
  }

  /** True for WebSocket addresses (`ws` and `wss`). */
  get isWs(): boolean {
    return this.protocol === 'ws' || this.protocol === 'wss';
  }

  /**
   * Sets or clears the CURVE key: an empty key (or `undefined`) makes a CURVE address plain, a
   * 32-byte key makes a plain address CURVE (or replaces the key). Returns `this`.
   * @throws {OmqError} `ERR_OMQ_BAD_ADDRESS` for any other length.
   */
  setPubkey(pubkey: Uint8Array | undefined): this {
    if (pubkey === undefined || (pubkey instanceof Uint8Array && pubkey.length === 0)) {
      this.pk = undefined;
    } else {
      this.pk = copyKey(pubkey);
    }
    return this;
  }

  /** The ZMQ endpoint, never including a key: `tcp://HOST:PORT`, `ipc://PATH` or `ws[s]://HOST:PORT/PATH`. */
  zmqAddress(): string {
    if (this.protocol === 'ipc') return `ipc://${this.socket}`;
    if (this.protocol === 'tcp') return `tcp://${this.host}:${this.port}`;
    return `${this.protocol}://${this.host}:${this.port}${this.path}`;
  }

  /**
   * The full address with the key in `encoding` (default base32z; base64 is written unpadded):
   * `tcp://H:P`, `curve://H:P/KEY` (never `tcp+curve://`), `ipc://PATH`, `ipc+curve://PATH/KEY`,
   * `ws://H:P/PATH`, `ws+curve://H:P/PATH/KEY` (`ws+curve://H:P/KEY` for the path `/`), and `wss` alike.
   */
  fullAddress(encoding: AddressKeyEncoding = 'base32z'): string {
    const key = this.pk;
    if (key === undefined) return this.zmqAddress();
    const k = encodeKey(key, encoding);
    if (this.isWs) return `${this.protocol}+curve://${this.host}:${this.port}${this.path === '/' ? '' : this.path}/${k}`;
    return this.protocol === 'tcp' ? `curve://${this.host}:${this.port}/${k}` : `ipc+curve://${this.socket}/${k}`;
  }

  /**
   * The QR-code friendly form: `TCP://` or `CURVE://` + upper-cased host (`[…]` written `$…$`) +
   * `:PORT` (+ `/` + upper-case base32z key).
   * @throws {OmqError} `ERR_OMQ_BAD_ADDRESS` for ipc addresses and an empty host.
   */
  qrAddress(): string {
    if (this.protocol !== 'tcp') throw badAddress('a QR address needs a TCP address');
    if (this.host.length === 0) throw badAddress('a QR address needs a non-empty host');
    let host = asciiUpper(this.host);
    if (host.startsWith('[') && host.endsWith(']')) host = '$' + host.slice(1, -1) + '$';
    const key = this.pk;
    return key === undefined
      ? `TCP://${host}:${this.port}`
      : `CURVE://${host}:${this.port}/${encodeKey(key, 'BASE32Z')}`;
  }

  /** Same protocol and CURVE-ness, same host and port (tcp, ws) or path (ipc, ws), and same key. */
  equals(other: Address): boolean {
    if (!(other instanceof Address)) return false;
    if (this.protocol !== other.protocol || this.curve !== other.curve) return false;
    if (this.host !== other.host || this.port !== other.port || this.socket !== other.socket || this.path !== other.path) {
      return false;
    }
    const a = this.pk;
    const b = other.pk;
    return a === undefined || b === undefined ? a === b : bytesEqual(a, b);
  }

  /** A string usable as a Map/Set key, consistent with {@link equals}. */
  get key(): string {
    return this.fullAddress('hex');
  }

  /** The full address with a base32z key. */
  toString(): string {
    return this.fullAddress();
  }
}

function encodeKey(key: Uint8Array, encoding: AddressKeyEncoding): string {
  switch (encoding) {
    case 'hex':
      return toHex(key);
    case 'base32z':
      return toBase32z(key);
    case 'BASE32Z':
      return asciiUpper(toBase32z(key));
    case 'base64':
      return toBase64(key, { pad: false });
    default:
      throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, 'unknown key encoding');
  }
}
