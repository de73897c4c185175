/**
 * The pub/sub helper `Subscription<UserData = void>` — PROTOCOL.md §7.1 (C++ `pubsub.h`).
 *
 * A purely local registry of subscribers with expiry; it defines no wire messages. Applications
 * pair it with their own commands: a request handler calls {@link Subscription.subscribe} with
 * `msg.conn`, and the publisher calls {@link Subscription.publish} to send a notification to each
 * live subscriber. Subscribers are keyed by {@link ConnectionID.key}, so a client that reconnects
 * with the same routing id (pubkey-based by default) keeps its subscription.
 *
 * Time comes from an injectable clock, so expiry is testable without sleeping.
 */
import { systemClock, type Clock } from '../zmtp/index.js';
import type { ConnectionID } from './connection-id.js';

/** The only part of a {@link Clock} the registry needs. */
export type SubscriptionClock = Pick<Clock, 'now'>;

/** Default subscription lifetime: 30 minutes, as upstream. */
export const DEFAULT_SUBSCRIPTION_DURATION_MS = 30 * 60 * 1000;

/** Options of a {@link Subscription}. */
export interface SubscriptionOptions<UserData> {
  /** Time source in milliseconds (default: the system monotonic clock). */
  clock?: SubscriptionClock;
  /**
   * Decides whether a re-subscription changed the user data (then `subscribe` returns true).
   * Default: `===`, except that two Uint8Arrays compare by content.
   */
  equals?: (a: UserData, b: UserData) => boolean;
  /**
   * Declares that this registry carries user data, which makes `unsubscribe` return the data (or
   * `undefined`) rather than a boolean from the start. Without it, the registry switches to that
   * mode on the first `subscribe(conn, data)` call with a data argument.
   */
  withData?: boolean;
}

/** What {@link Subscription.unsubscribe} returns: a boolean without user data, else the data. */
export type Unsubscribed<UserData> = [UserData] extends [void] ? boolean : UserData | undefined;

/** The publish callback: `(conn)` without user data, `(conn, data)` with it. */
export type PublishCallback<UserData> = [UserData] extends [void]
  ? (conn: ConnectionID) => void
  : (conn: ConnectionID, data: UserData) => void;

interface Entry<UserData> {
  conn: ConnectionID;
  expiry: number;
  data: UserData;
}

function defaultEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  return false;
}

function isClock(x: unknown): x is SubscriptionClock {
  return typeof x === 'object' && x !== null && typeof (x as { now?: unknown }).now === 'function';
}

/**
 * A set of subscribers, each with an expiry that every (re-)subscription pushes to now + duration.
 *
 * ```ts
 * const greetings = new Subscription('greetings');
 * omq.addRequestCommand('public', 'greetings', (m) => { greetings.subscribe(m.conn); m.sendReply('OK'); });
 * greetings.publish((conn) => omq.send(conn, 'notify.greetings', 'hello'));
 * ```
 *
 * With user data (`Subscription<string>`), `subscribe(conn, data)` also reports changed data and
 * `publish` passes each subscriber's data to the callback.
 */
export class Subscription<UserData = void> {
  /** A description of the subscription, for logs. */
  readonly description: string;
  /** How long a subscription lasts after its latest (re-)subscribe, in milliseconds. */
  readonly durationMs: number;
  private readonly clock: SubscriptionClock;
  private readonly equalsFn: (a: UserData, b: UserData) => boolean;
  private withData: boolean;
  private readonly subs = new Map<string, Entry<UserData>>();

  /**
   * @param description what is subscribed to (for logs).
   * @param durationMs lifetime of a subscription after each (re-)subscribe (default 30 min).
   * @param options a clock (`{ now() }`, e.g. a test's `ManualClock`) or {@link SubscriptionOptions}.
   * @throws {RangeError} if `durationMs` is negative or not finite.
   */
  constructor(
    description: string,
    durationMs: number = DEFAULT_SUBSCRIPTION_DURATION_MS,
    options: SubscriptionClock | SubscriptionOptions<UserData> = {},
  ) {
    if (typeof durationMs !== 'number' || !Number.isFinite(durationMs) || durationMs < 0) {
      throw new RangeError('durationMs must be a non-negative finite number');
    }
    const opts: SubscriptionOptions<UserData> = isClock(options) ? { clock: options } : options;
    this.description = String(description);
    this.durationMs = durationMs;
    this.clock = opts.clock ?? systemClock;
    this.equalsFn = opts.equals ?? defaultEquals;
    this.withData = opts.withData ?? false;
  }

  /** Number of stored subscribers (including expired ones not yet removed). */
  get size(): number {
    return this.subs.size;
  }

  /** True if `conn` has an unexpired subscription. */
  has(conn: ConnectionID): boolean {
    const e = this.subs.get(conn.key);
    return e !== undefined && !(e.expiry < this.clock.now());
  }

  /**
   * Subscribes `conn`, or refreshes its subscription; either way it now expires at
   * now + duration. Returns true if `conn` was not subscribed, or if `data` differs from the
   * stored data (which it then replaces); false for a plain refresh.
   *
   * An expired entry not yet removed counts as subscribed (a refresh), as upstream.
   */
  subscribe(conn: ConnectionID, ...args: [UserData] extends [void] ? [] : [data: UserData]): boolean {
    const hasData = args.length > 0;
    if (hasData) this.withData = true;
    const data = args[0] as UserData;
    const expiry = this.clock.now() + this.durationMs;
    const key = conn.key;
    const e = this.subs.get(key);
    if (e === undefined) {
      this.subs.set(key, { conn, expiry, data });
      return true;
    }
    e.expiry = expiry;
    if (hasData && !this.equalsFn(e.data, data)) {
      e.data = data;
      return true;
    }
    return false;
  }

  /**
   * Removes `conn`'s subscription. Without user data, returns whether it was subscribed
   * (`boolean`); with user data, returns the removed data, or `undefined` if it was not
   * subscribed (C++ returns `std::optional<UserData>`). The registry has user data once
   * `subscribe` has been called with a data argument, or from the start with `withData: true`.
   */
  unsubscribe(conn: ConnectionID): Unsubscribed<UserData> {
    const key = conn.key;
    const e = this.subs.get(key);
    if (e !== undefined) this.subs.delete(key);
    const result = this.withData ? e?.data : e !== undefined;
    return result as Unsubscribed<UserData>;
  }

  /** Drops every subscription whose expiry is in the past. */
  removeExpired(): void {
    const now = this.clock.now();
    for (const [key, e] of this.subs) if (e.expiry < now) this.subs.delete(key);
  }

  /**
   * Calls `fn(conn)` — or `fn(conn, data)` with user data — once for each unexpired subscriber,
   * then removes the expired ones (rechecking, in case `fn` re-subscribed one of them).
   * Subscribers added by `fn` are not visited in this round; ones it unsubscribes are skipped.
   * If `fn` throws, the error propagates (expired entries already passed are still removed).
   */
  publish(fn: PublishCallback<UserData>): void {
    if (this.subs.size === 0) return;
    const now = this.clock.now();
    const call = fn as (conn: ConnectionID, data: UserData) => void;
    // A snapshot: fn may subscribe/unsubscribe while we iterate.
    const entries = [...this.subs];
    const expired: string[] = [];
    try {
      for (const [key, e] of entries) {
        if (e.expiry < now) expired.push(key);
        else if (this.subs.get(key) === e) call(e.conn, e.data);
      }
    } finally {
      if (expired.length > 0) {
        const later = this.clock.now();
        for (const key of expired) {
          const e = this.subs.get(key);
          if (e !== undefined && e.expiry < later) this.subs.delete(key);
        }
      }
    }
  }
}
