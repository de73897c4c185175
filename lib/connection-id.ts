/**
 * ConnectionID — "whom to talk to" (C++ `oxenmq::ConnectionID`, upstream `oxenmq/connections.h`).
 *
 * | id   | meaning                                                                    |
 * | ---- | -------------------------------------------------------------------------- |
 * | −1   | service node, addressed by its 32-byte pubkey, whichever connection        |
 * | 0    | invalid / default-constructed                                              |
 * | > 0  | a connection or listener number from the instance's counter (starts at 1)  |
 *
 * `route` is the peer's routing id when it connected to one of our listeners (two clients on the
 * same listener differ only by route); it is empty for outgoing connections and the SN form.
 *
 * Equality (and {@link ConnectionID.key}) follow the C++ operator==: SN forms are equal iff their
 * pubkeys are; otherwise equal iff `id` and `route` are, the pubkey being ignored — so the copy
 * of a `connect_remote` id that `on_connect` receives (which carries the remote pubkey) equals
 * the one `connect_remote` returned.
 */
import { bytesEqual, latin1Key } from '../zmtp/index.js';
import { toHex } from './oxenc/index.js';

const EMPTY = new Uint8Array(0);

/** The `id` of the SN form. */
export const SN_ID = -1;

/**
 * An immutable identifier of a remote: a service node by pubkey, or a specific connection.
 *
 * The byte arrays are kept by reference, not copied (these objects are made per message); do
 * not mutate them after construction.
 */
export class ConnectionID {
  /** −1 for the SN form, 0 when invalid, > 0 for a connection or listener number. */
  readonly id: number;
  /** SN form: the service node's pubkey; otherwise the remote's CURVE pubkey, or empty if unknown. */
  readonly pubkey: Uint8Array;
  /** Routing id of a peer connected to one of our listeners; empty otherwise. */
  readonly route: Uint8Array;
  // Private fields are unaffected by Object.freeze, so the key can still be cached lazily.
  #key: string | undefined;

  /**
   * @param id −1 (SN form; `pubkey` must then be 32 bytes), 0 (invalid, the default) or a positive
   *   connection number.
   * @param pubkey the SN pubkey (SN form) or the remote's pubkey if known.
   * @param route the peer's routing id for connections accepted by a listener.
   * @throws {TypeError} if `id` is not an integer ≥ −1 or the byte arguments are not Uint8Arrays.
   * @throws {RangeError} for the SN form with a pubkey that is not exactly 32 bytes.
   */
  constructor(id = 0, pubkey: Uint8Array = EMPTY, route: Uint8Array = EMPTY) {
    if (!Number.isSafeInteger(id) || id < SN_ID) throw new TypeError('ConnectionID id must be an integer >= -1');
    if (!(pubkey instanceof Uint8Array) || !(route instanceof Uint8Array)) {
      throw new TypeError('ConnectionID pubkey and route must be Uint8Arrays');
    }
    if (id === SN_ID && pubkey.length !== 32) {
      throw new RangeError(`service node pubkey must be 32 bytes, got ${pubkey.length}`);
    }
    this.id = id;
    this.pubkey = pubkey;
    // The SN form addresses a node, not a connection: a route would be meaningless there.
    this.route = id === SN_ID ? EMPTY : route;
    Object.freeze(this);
  }

  /**
   * The SN form for `pubkey` ("the service node with this key, whichever connection").
   * @throws {RangeError} unless `pubkey` is exactly 32 bytes.
   */
  static sn(pubkey: Uint8Array): ConnectionID {
    return new ConnectionID(SN_ID, pubkey);
  }

  /**
   * Normalises what the C++ API accepts implicitly: a bare 32-byte pubkey means the SN form.
   * @throws {RangeError} for a Uint8Array that is not 32 bytes.
   */
  static from(value: ConnectionID | Uint8Array): ConnectionID {
    return value instanceof ConnectionID ? value : ConnectionID.sn(value);
  }

  /** True for the SN form (id −1). */
  get isSn(): boolean {
    return this.id === SN_ID;
  }

  /** `bool(conn)` of the C++ API: false only for the default-constructed (id 0) value. */
  get valid(): boolean {
    return this.id !== 0;
  }

  /**
   * A string usable as a Map key, consistent with {@link equals}: `'s' + latin1(pubkey)` for the
   * SN form, `'c' + id + ':' + latin1(route)` otherwise. Built once, on first use.
   */
  get key(): string {
    let k = this.#key;
    if (k === undefined) {
      k = this.id === SN_ID ? 's' + latin1Key(this.pubkey) : 'c' + this.id + ':' + latin1Key(this.route);
      this.#key = k;
    }
    return k;
  }

  /** Equality as C++'s `operator==`: SN forms by pubkey; otherwise by id and route (pubkey ignored). */
  equals(other: ConnectionID): boolean {
    if (this === other) return true;
    if (!(other instanceof ConnectionID)) return false;
    if (this.id !== other.id) return false;
    if (this.id === SN_ID) return bytesEqual(this.pubkey, other.pubkey);
    return bytesEqual(this.route, other.route);
  }

  /**
   * Log form: `"SN <hex>"`, `"non-SN authenticated remote <hex>"` or
   * `"unauthenticated remote [<id>]"`.
   */
  toString(): string {
    if (this.id === SN_ID) return 'SN ' + toHex(this.pubkey);
    if (this.pubkey.length > 0) return 'non-SN authenticated remote ' + toHex(this.pubkey);
    return 'unauthenticated remote [' + this.id + ']';
  }
}
