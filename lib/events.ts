/**
 * The instance's lifecycle events, typed, on a tiny emitter of our own (node:events is not in
 * every runtime this package serves, browsers included). A listener that throws is logged and
 * never disturbs the library or the other listeners.
 */
import type { ConnectionID } from './connection-id.js';
import type { Logger } from './logger.js';

/** Events of an OxenMQ instance, by name, with their argument. */
export interface OxenMQEvents {
  /**
   * An outgoing connection is up: connectRemote/connectInproc got the listener's HELLO, an SN
   * connection completed its handshake, or either came back after a drop.
   */
  connect: { conn: ConnectionID; address: string };
  /**
   * An outgoing connection that was up went down. `reconnecting` is true after a transport drop
   * (the connection keeps its ConnectionID and redials), false when it is gone for good
   * (`reason`: 'disconnected', 'idle', 'peer said BYE', 'refused', …).
   */
  disconnect: { conn: ConnectionID; reason: string; reconnecting: boolean };
  /** An attempt to open an outgoing connection failed (TCP or handshake); `retryInMs` is −1 when it will not be retried. */
  'connect-failed': { conn: ConnectionID; address: string; error: Error; retryInMs: number };
  /** A peer connected to one of our listeners and its Allow callback admitted it. */
  accept: { conn: ConnectionID; address: string };
  /** A peer's connection to one of our listeners closed (`reason` is the error message, or 'closed'). */
  close: { conn: ConnectionID; reason: string };
  /** An incoming connection failed its handshake (denied, malformed, timed out); `error` has the code. */
  'handshake-failed': { address: string; error: Error };
  /** A listener is bound and accepting; `endpoint` has the real port. */
  listening: { endpoint: string; curve: boolean };
  /** A listener stopped (the instance closed). */
  'listener-closed': { endpoint: string };
}

/** A listener of event `K`. */
export type OxenMQListener<K extends keyof OxenMQEvents> = (event: OxenMQEvents[K]) => void;

/** The on/off/once half of the emitter, which the instance exposes. */
export class Emitter<E extends object> {
  readonly #listeners = new Map<keyof E, Set<(event: never) => void>>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Calls `fn` for every `name` event until {@link Emitter.off}. */
  on<K extends keyof E>(name: K, fn: (event: E[K]) => void): this {
    if (typeof fn !== 'function') throw new TypeError('event listener must be a function');
    let set = this.#listeners.get(name);
    if (set === undefined) this.#listeners.set(name, (set = new Set()));
    set.add(fn as (event: never) => void);
    return this;
  }

  /** Calls `fn` for the next `name` event only. */
  once<K extends keyof E>(name: K, fn: (event: E[K]) => void): this {
    const wrapper = (event: E[K]) => {
      this.off(name, wrapper);
      fn(event);
    };
    return this.on(name, wrapper);
  }

  /** Removes a listener added with {@link Emitter.on}. */
  off<K extends keyof E>(name: K, fn: (event: E[K]) => void): this {
    this.#listeners.get(name)?.delete(fn as (event: never) => void);
    return this;
  }

  /** True when anyone listens to `name` (so the caller can skip building the event). */
  listening(name: keyof E): boolean {
    return (this.#listeners.get(name)?.size ?? 0) > 0;
  }

  /** Calls each listener of `name` with `event`; a throwing listener is logged. */
  emit<K extends keyof E>(name: K, event: E[K]): void {
    const set = this.#listeners.get(name);
    if (set === undefined || set.size === 0) return;
    for (const fn of [...set]) {
      try {
        (fn as (event: E[K]) => void)(event);
      } catch (err) {
        this.#log.error(`a listener of the "${String(name)}" event threw`, err);
      }
    }
  }
}
