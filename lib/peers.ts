/**
 * The connections this instance opened, and what it knows of service nodes: the outgoing table
 * (by connection number), the active service-node set, each SN's records (our outgoing
 * connection to it, or the route of its connection to one of our listeners), the hold-off after
 * an SN refused us, one CURVE client factory per server key, and the routing ids we announce.
 * C++ keeps the same state in its proxy thread (upstream `oxenmq/connections.cpp`).
 */
import { blake2b } from '@noble/hashes/blake2.js';
import { curveClient } from '../curve/index.js';
import { bytesEqual, copyBytes, latin1Key, type MechanismFactory, nullMechanism, type Peer, ZmtpDealer } from '../zmtp/index.js';
import { Address } from './address.js';
import { AuthLevel } from './auth.js';
import { ConnectionID } from './connection-id.js';
import { channels } from './diagnostics.js';
import { OmqError, OmqErrorCode } from './errors.js';
import type { InprocHub } from './inproc.js';
import type { Listener } from './listeners.js';
import { type InstanceContext, zmtpOptions } from './options.js';
import { parsePubkey, toHex } from './oxenc/index.js';

/** "Never expires", for connections without an idle limit. */
export const FOREVER = 10 * 365 * 24 * 3600 * 1000;
const ROUTING_ID_PERSONALISATION = new TextEncoder().encode('omq-routing-id__');
const EMPTY = new Uint8Array(0);
/** CURVE client factories kept, one per server key; beyond it the cache starts over. */
const CURVE_CLIENT_CACHE = 1024;

/** A link that carries messages out: a dealer, or the client end of an in-process connection. */
export interface OutLink {
  send(frames: ReadonlyArray<Uint8Array | string>): void;
  close(lingerMs: number): unknown;
  /** The live connection, whose {@link Peer.hold} counts commands waiting for a handler; none in-process. */
  readonly connection?: Pick<Peer<undefined>, 'hold'> | null;
}

/** A connectRemote / connectInproc waiting for the listener's HELLO. */
export interface PendingConnect {
  readonly deadline: number;
  readonly resolve: (id: ConnectionID) => void;
  readonly reject: (err: OmqError) => void;
}

/** One connection we opened. */
export interface Outgoing {
  readonly id: number;
  readonly kind: 'remote' | 'sn' | 'inproc';
  readonly link: OutLink;
  /** The remote's pubkey: the SN's, or the curve address's; empty for plain. */
  readonly pubkey: Uint8Array;
  /** The endpoint dialled (`tcp://…`, `ipc://…`), or 'inproc'. */
  readonly address: string;
  readonly isSn: boolean;
  /** The auth level granted to commands the remote sends us over this connection. */
  readonly authLevel: AuthLevel;
  idleExpiry: number;
  lastActivity: number;
  pending: PendingConnect | undefined;
  closed: boolean;
  /** The transport is up and its 'connect' event was announced. */
  up: boolean;
}

/** How to reach a service node: our outgoing connection, or its connection to our listener. */
export type SnRecord =
  | { readonly out: Outgoing; readonly listener?: undefined; readonly route?: undefined }
  | { readonly out?: undefined; readonly listener: Listener; readonly route: Uint8Array };

/** The send options that choose an SN connection (all SN-only, as in C++). */
export interface SnTargetOptions {
  hint?: string | undefined;
  keepAlive: number;
  ephemeral: boolean;
  /** Use an existing connection or none. */
  optional: boolean;
  /** Use only an existing incoming connection. */
  incoming: boolean;
  /** Use (or open) only an outgoing connection. */
  outgoing: boolean;
}

/** What the peer table needs from its instance. */
export interface PeerContext extends InstanceContext {
  /** The instance's current `snLookup`. */
  readonly snLookup: () => ((pubkey: Uint8Array) => string | undefined) | undefined;
  /** How many more sockets may be opened now (listeners count too). */
  readonly socketAvailable: () => boolean;
  /** A message arrived on outgoing connection `out`. */
  readonly onMessage: (out: Outgoing, frames: Uint8Array[], remote: string) => void;
}

/** Outgoing connections and service-node records of one instance. */
export class Peers {
  readonly #ctx: PeerContext;
  readonly #outgoing = new Map<number, Outgoing>();
  readonly #sns = new Map<string, SnRecord[]>();
  readonly #active = new Set<string>();
  /** SNs whose listener refused our handshake, with the time before which we don't redial. */
  readonly #refused = new Map<string, number>();
  readonly #curveClients = new Map<string, MechanismFactory>();

  constructor(ctx: PeerContext) {
    this.#ctx = ctx;
  }

  /** Open outgoing connections (they count against `maxSockets`). */
  get count(): number {
    return this.#outgoing.size;
  }

  /** The outgoing connection with this number. */
  get(id: number): Outgoing | undefined {
    return this.#outgoing.get(id);
  }

  // ---- the active service-node set -----------------------------------------------------------

  /** True if `pubkey` is in the active set. */
  isActive(pubkey: Uint8Array): boolean {
    return pubkey.length === 32 && this.#active.has(latin1Key(pubkey));
  }

  /** Replaces the active set; connections to SNs no longer in it are closed. */
  setActive(pubkeys: Iterable<Uint8Array | string>): void {
    const next = this.#keys(pubkeys);
    const removed = [...this.#active].filter((k) => !next.has(k));
    this.#active.clear();
    for (const k of next) this.#active.add(k);
    this.#drop(removed);
  }

  /** Adds and removes SNs; a key in both lists counts as added. */
  updateActive(added: Iterable<Uint8Array | string>, removed: Iterable<Uint8Array | string>): void {
    const add = this.#keys(added);
    const gone: string[] = [];
    for (const k of this.#keys(removed)) if (!add.has(k) && this.#active.delete(k)) gone.push(k);
    for (const k of add) this.#active.add(k);
    this.#drop(gone);
  }

  // ---- opening and closing -------------------------------------------------------------------

  /**
   * Opens connection number `id` to a listener at `endpoint` (CURVE when `pubkey` is a 32-byte server key)
   * that waits for the listener's HELLO: `done` settles on it, on refusal or at `deadline`.
   * @throws {OmqError} `ERR_OMQ_CONNECT_FAILED` for an unusable endpoint or key.
   */
  connectRemote(id: number, endpoint: string, pubkey: Uint8Array, auth: AuthLevel, ephemeral: boolean, deadline: number): Promise<ConnectionID> {
    return new Promise<ConnectionID>((resolve, reject) => {
      const out = this.#open(id, 'remote', endpoint, pubkey, false, auth, FOREVER, ephemeral);
      out.pending = { deadline, resolve, reject };
      out.link.send(['HI']);
    });
  }

  /** Opens an in-process connection to our own built-in listener (`hub`). */
  connectInproc(hub: InprocHub, auth: AuthLevel, deadline: number): Promise<ConnectionID> {
    return new Promise<ConnectionID>((resolve, reject) => {
      const id = this.#ctx.nextId();
      const client = hub.connect((frames) => this.#ctx.onMessage(out, frames, '(unknown)'));
      const now = this.#ctx.clock.now();
      const out: Outgoing = {
        id,
        kind: 'inproc',
        link: client,
        pubkey: this.#ctx.publicKey,
        address: 'inproc',
        isSn: false,
        authLevel: auth,
        idleExpiry: FOREVER,
        lastActivity: now,
        pending: { deadline, resolve, reject },
        closed: false,
        up: false,
      };
      this.#outgoing.set(id, out);
      client.send(['HI']);
    });
  }

  /** The listener's HELLO arrived on `out`: its pending connect is established. */
  established(out: Outgoing): void {
    const p = out.pending;
    if (p === undefined) return;
    out.pending = undefined;
    const conn = new ConnectionID(out.id, out.pubkey);
    this.#up(out, out.kind === 'inproc' ? 'inproc' : out.address);
    p.resolve(conn);
  }

  /** The ID a connection's events name: the SN form for SN connections. */
  #conn(out: Outgoing): ConnectionID {
    return out.isSn ? ConnectionID.sn(out.pubkey) : new ConnectionID(out.id, out.pubkey);
  }

  #up(out: Outgoing, address: string): void {
    if (out.up || out.closed) return;
    out.up = true;
    const conn = this.#conn(out);
    this.#ctx.emitter.emit('connect', { conn, address });
    if (channels.connectionOpen.hasSubscribers) channels.connectionOpen.publish({ conn, address, direction: 'outgoing' });
  }

  #down(out: Outgoing, reason: string, reconnecting: boolean): void {
    if (!out.up) return;
    out.up = false;
    const conn = this.#conn(out);
    this.#ctx.emitter.emit('disconnect', { conn, reason, reconnecting });
    if (channels.connectionClose.hasSubscribers) channels.connectionClose.publish({ conn, reason, direction: 'outgoing' });
  }

  /** Gives up on connection `id` while it is still pending: its connect fails with `err`, and it is closed. */
  abandon(id: number, err: OmqError): void {
    const out = this.#outgoing.get(id);
    if (out?.pending === undefined) return;
    const p = out.pending;
    out.pending = undefined;
    p.reject(err);
    this.close(out, 0, err.message);
  }

  /** Closes an outgoing connection, forgets its records and fails its pending connect with `reason`. */
  close(out: Outgoing, lingerMs: number, reason: string, cause?: unknown): void {
    if (out.closed) return;
    this.#down(out, reason, false);
    out.closed = true;
    this.#outgoing.delete(out.id);
    if (out.isSn) this.#removeRecords(latin1Key(out.pubkey), (r) => r.out === out);
    if (out.pending) {
      const p = out.pending;
      out.pending = undefined;
      p.reject(new OmqError(OmqErrorCode.CONNECT_FAILED, reason, { cause }));
    }
    void out.link.close(lingerMs);
  }

  /**
   * The outgoing connection `conn` names for `disconnect()`: an SN's first outgoing record, or a
   * connectRemote/connectInproc connection (never a listener's peer).
   */
  find(conn: ConnectionID): Outgoing | undefined {
    if (conn.isSn) return this.#sns.get(latin1Key(conn.pubkey))?.find((r) => r.out !== undefined)?.out;
    return conn.route.length === 0 ? this.#outgoing.get(conn.id) : undefined;
  }

  /** The cleanup tick: closes idle SN connections and fails connects past their deadline. */
  sweep(now: number): void {
    for (const out of [...this.#outgoing.values()]) {
      if (out.kind === 'sn' && now - out.lastActivity > out.idleExpiry) {
        this.#ctx.logger.info?.(`closing idle connection to ${toHex(out.pubkey)}`);
        this.close(out, this.#ctx.settings.closeLinger, 'idle');
      } else if (out.pending && now >= out.pending.deadline) {
        this.close(out, 0, 'connection attempt timed out');
      }
    }
  }

  /** Closes everything (instance shutdown); pending connects fail with `ERR_OMQ_CLOSED`. */
  closeAll(lingerMs: number): Promise<unknown>[] {
    const waits: Promise<unknown>[] = [];
    for (const out of this.#outgoing.values()) {
      out.closed = true;
      out.pending?.reject(new OmqError(OmqErrorCode.CLOSED, 'instance closed before the connection was established'));
      waits.push(Promise.resolve(out.link.close(lingerMs)));
    }
    this.#outgoing.clear();
    this.#sns.clear();
    return waits;
  }

  // ---- service-node records ------------------------------------------------------------------

  /** The records of the SN `pubkey` (oldest first), for routing. */
  records(pubkey: Uint8Array): readonly SnRecord[] | undefined {
    return this.#sns.get(latin1Key(pubkey));
  }

  /** An SN's message arrived over our listener at `route`: remember that route for sends to it. */
  noteIncoming(pubkey: Uint8Array, listener: Listener, route: Uint8Array): void {
    const key = latin1Key(pubkey);
    const list = this.#sns.get(key);
    if (list?.some((r) => r.listener === listener && bytesEqual(r.route, route))) return;
    this.#addRecord(key, { listener, route: copyBytes(route) });
  }

  /** The connection at `route` on `listener` closed: forget it as an SN route. */
  forgetIncoming(pubkey: Uint8Array, listener: Listener, route: Uint8Array): void {
    this.#removeRecords(latin1Key(pubkey), (r) => r.listener === listener && bytesEqual(r.route, route));
  }

  /** Forgets one record (a stale incoming route found while sending). */
  forgetRecord(pubkey: Uint8Array, rec: SnRecord): void {
    this.#removeRecords(latin1Key(pubkey), (r) => r === rec);
  }

  /**
   * C++'s get-SN-connection: the most recent usable record of `pk`, or a new outgoing
   * connection (via `hint` or snLookup), or undefined when none may or can be had.
   */
  snTarget(pk: Uint8Array, o: SnTargetOptions): SnRecord | undefined {
    const ctx = this.#ctx;
    const key = latin1Key(pk);
    const list = this.#sns.get(key);
    if (list) {
      // Prefer the most recent record (C++ leaves the choice to hash-map iteration order).
      for (let i = list.length - 1; i >= 0; i--) {
        const r = list[i]!;
        if (r.out && o.incoming) continue;
        if (r.listener && o.outgoing) continue;
        if (r.out) {
          r.out.idleExpiry = Math.max(r.out.idleExpiry, o.keepAlive);
          r.out.lastActivity = ctx.clock.now();
        }
        return r;
      }
    }
    if (o.optional || o.incoming) return undefined;
    const refusedUntil = this.#refused.get(key);
    if (refusedUntil !== undefined) {
      if (ctx.clock.now() < refusedUntil) {
        ctx.logger.debug?.(`service node ${toHex(pk)} refused us recently; not reconnecting yet`);
        return undefined;
      }
      this.#refused.delete(key);
    }
    const address = o.hint || ctx.snLookup()?.(Uint8Array.from(pk));
    if (!address) {
      ctx.throttle.warn('no-sn-address', key, `no address known for service node ${toHex(pk)}`);
      return undefined;
    }
    let endpoint: string;
    try {
      endpoint = address.includes('curve://') ? Address.parse(address).zmqAddress() : address;
    } catch (err) {
      ctx.throttle.warn('bad-sn-address', key, `invalid address for service node ${toHex(pk)}`, err);
      return undefined;
    }
    if (!ctx.socketAvailable()) {
      ctx.throttle.warn('socket-limit', '', 'connect() failed: Too many open files');
      return undefined;
    }
    try {
      return { out: this.#open(ctx.nextId(), 'sn', endpoint, Uint8Array.from(pk), true, AuthLevel.none, o.keepAlive, o.ephemeral) };
    } catch (err) {
      ctx.throttle.warn('sn-connect', key, `cannot connect to service node ${toHex(pk)}: ${(err as Error).message}`);
      return undefined;
    }
  }

  // ---- internals -----------------------------------------------------------------------------

  #open(id: number, kind: 'remote' | 'sn', endpoint: string, pubkey: Uint8Array, isSn: boolean, auth: AuthLevel, idleExpiry: number, ephemeral: boolean): Outgoing {
    const ctx = this.#ctx;
    // A bad endpoint (e.g. a wildcard host from snLookup) or an unusable server key throws here:
    // report it as a failed connect and register nothing, so no dead record lingers behind.
    let dealer: ZmtpDealer;
    try {
      // Never fall back to plaintext: a key that is there must be a usable CURVE server key.
      if (pubkey.length !== 0 && pubkey.length !== 32) throw new RangeError(`a CURVE server key is 32 bytes, not ${pubkey.length}`);
      const mechanism = pubkey.length === 32 ? this.#curveClientFor(pubkey) : nullMechanism;
      dealer = new ZmtpDealer({
        ...zmtpOptions(ctx.settings, ctx.clock, ctx.logger, ctx.budgets),
        mechanism,
        identity: this.#routingId(pubkey, ephemeral),
        connector: ctx.platform.connector,
      });
      dealer.connect(endpoint);
    } catch (err) {
      throw new OmqError(OmqErrorCode.CONNECT_FAILED, `connect() failed: ${(err as Error).message}`, { cause: err });
    }
    const out: Outgoing = {
      id,
      kind,
      link: dealer,
      pubkey,
      address: endpoint,
      isSn,
      authLevel: auth,
      idleExpiry,
      lastActivity: ctx.clock.now(),
      pending: undefined,
      closed: false,
      up: false,
    };
    dealer.onMessage = (frames, conn) => ctx.onMessage(out, frames, conn.remoteAddress);
    // A connectRemote is up once HELLO arrives (established()); a reconnect, or an SN connection,
    // as soon as its handshake completes.
    dealer.on('connect', () => {
      if (out.pending === undefined) this.#up(out, endpoint);
    });
    dealer.on('disconnect', (err) => this.#down(out, err?.message ?? 'peer closed the connection', true));
    dealer.on('connect-failed', (err, retryInMs) => {
      if (!out.closed) ctx.emitter.emit('connect-failed', { conn: this.#conn(out), address: endpoint, error: err, retryInMs });
    });
    dealer.on('failed', (err) => {
      ctx.throttle.warn('refused', endpoint, `connection to ${endpoint} refused: ${err.message}`);
      if (out.pending) this.close(out, 0, `connection refused: ${err.message}`, err);
      else if (out.isSn) {
        // libzmq never retries a refused DEALER, and C++ keeps the dead record, so every later
        // send fails while each send keeps it "active". Forget it, so a later send can connect
        // again, but not before reconnectIntervalMax: a peer that denies us must not get a
        // new connection per message.
        this.#refused.set(latin1Key(out.pubkey), ctx.clock.now() + ctx.settings.reconnectIntervalMax);
        this.close(out, 0, 'refused');
      }
    });
    this.#outgoing.set(out.id, out);
    if (isSn) this.#addRecord(latin1Key(pubkey), { out });
    return out;
  }

  /**
   * One CURVE client factory per server key: building one imports our secret key and checks the
   * server key, which every connection to that server would otherwise pay again.
   */
  #curveClientFor(serverKey: Uint8Array): MechanismFactory {
    const key = latin1Key(serverKey);
    let f = this.#curveClients.get(key);
    if (f === undefined) {
      if (this.#curveClients.size >= CURVE_CLIENT_CACHE) this.#curveClients.clear(); // bounded, not an LRU: rebuilding is cheap
      f = curveClient({ serverKey, publicKey: this.#ctx.publicKey, secretKey: this.#ctx.secretKey });
      this.#curveClients.set(key, f);
    }
    return f;
  }

  /**
   * The routing id a new outgoing connection announces: liboxenmq 1.3's `"K" ‖ BLAKE2b-256(remote
   * pubkey, key = our secret key, personalisation "omq-routing-id__")` on CURVE (stable per
   * remote, so listener handover works, yet it reveals nothing), `"R" ‖ 32 random bytes`
   * otherwise or when ephemeral; or oxenmq 1.2's `"L" ‖ our pubkey` (empty when ephemeral).
   */
  #routingId(remotePubkey: Uint8Array, ephemeral: boolean): Uint8Array {
    const ctx = this.#ctx;
    if (ctx.settings.routingIdFormat === 'legacy') {
      if (ephemeral) return EMPTY;
      const id = new Uint8Array(33);
      id[0] = 0x4c; // 'L'
      id.set(ctx.publicKey, 1);
      return id;
    }
    const id = new Uint8Array(33);
    if (!ephemeral && remotePubkey.length === 32) {
      id[0] = 0x4b; // 'K'
      id.set(blake2b(remotePubkey, { dkLen: 32, key: ctx.secretKey, personalization: ROUTING_ID_PERSONALISATION }), 1);
    } else {
      id[0] = 0x52; // 'R'
      globalThis.crypto.getRandomValues(id.subarray(1));
    }
    return id;
  }

  #keys(pubkeys: Iterable<Uint8Array | string>): Set<string> {
    const keys = new Set<string>();
    for (const k of pubkeys) {
      try {
        keys.add(latin1Key(parsePubkey(k)));
      } catch {
        this.#ctx.logger.warn('ignoring an invalid service node pubkey (not 32 bytes)');
      }
    }
    return keys;
  }

  #drop(keys: string[]): void {
    for (const key of keys) {
      const list = this.#sns.get(key);
      if (!list) continue;
      this.#sns.delete(key);
      for (const r of list) if (r.out) this.close(r.out, this.#ctx.settings.closeLinger, 'service node was removed from the active set');
    }
  }

  #addRecord(key: string, rec: SnRecord): void {
    const list = this.#sns.get(key);
    if (list === undefined) this.#sns.set(key, [rec]);
    else list.push(rec);
  }

  #removeRecords(key: string, match: (r: SnRecord) => boolean): void {
    const list = this.#sns.get(key);
    if (!list) return;
    const kept = list.filter((r) => !match(r));
    if (kept.length === 0) this.#sns.delete(key);
    else this.#sns.set(key, kept);
  }
}
