/**
 * A small typed event emitter with Node's EventEmitter calling conventions (on/once/off/emit,
 * several arguments per event, listeners called in order, a throwing listener propagating to the
 * emitter's caller), so the sockets and streams that must also run in browsers need no
 * node:events.
 */

type Listener = (...args: unknown[]) => void;

/** Emits the events of `E`: event name → argument tuple. */
export class TypedEmitter<E extends { [K in keyof E]: unknown[] }> {
  #listeners: Map<keyof E, Listener[]> | undefined;

  /** Calls `fn` for every `event` until removed. */
  on<K extends keyof E>(event: K, fn: (...args: E[K]) => void): this {
    const map = (this.#listeners ??= new Map());
    const list = map.get(event);
    // A new array per change, so an emit in progress keeps the list it started with.
    map.set(event, list === undefined ? [fn as unknown as Listener] : [...list, fn as unknown as Listener]);
    return this;
  }

  /** Same as {@link TypedEmitter.on}. */
  addListener<K extends keyof E>(event: K, fn: (...args: E[K]) => void): this {
    return this.on(event, fn);
  }

  /** Calls `fn` for the next `event` only. */
  once<K extends keyof E>(event: K, fn: (...args: E[K]) => void): this {
    const wrapper = Object.assign(
      (...args: E[K]) => {
        this.off(event, wrapper);
        fn(...args);
      },
      { listener: fn },
    );
    return this.on(event, wrapper);
  }

  /** Removes `fn` (added with on or once) from `event`. */
  off<K extends keyof E>(event: K, fn: (...args: E[K]) => void): this {
    const list = this.#listeners?.get(event);
    if (list === undefined) return this;
    const i = list.findIndex((l) => l === (fn as unknown) || (l as unknown as { listener?: unknown }).listener === fn);
    if (i < 0) return this;
    const next = list.filter((_, j) => j !== i);
    if (next.length === 0) this.#listeners!.delete(event);
    else this.#listeners!.set(event, next);
    return this;
  }

  /** Same as {@link TypedEmitter.off}. */
  removeListener<K extends keyof E>(event: K, fn: (...args: E[K]) => void): this {
    return this.off(event, fn);
  }

  /** Removes every listener of `event`, or of every event. */
  removeAllListeners(event?: keyof E): this {
    if (event === undefined) this.#listeners = undefined;
    else this.#listeners?.delete(event);
    return this;
  }

  /** How many listeners `event` has. */
  listenerCount(event: keyof E): number {
    return this.#listeners?.get(event)?.length ?? 0;
  }

  /** Calls every listener of `event` with `args`; true when there was one. */
  declare emit: <K extends keyof E>(event: K, ...args: E[K]) => boolean;

  static {
    // Up to three arguments are passed as they are (no rest array, no spread): a stream emits
    // 'data' for every frame, and this is on that path.
    TypedEmitter.prototype.emit = function (this: TypedEmitter<Record<string, unknown[]>>, event: string, a?: unknown, b?: unknown, c?: unknown): boolean {
      const list = this.#listeners?.get(event);
      if (list === undefined) return false;
      const n = arguments.length - 1;
      for (let i = 0; i < list.length; i++) {
        const fn = list[i]!;
        if (n === 1) fn(a);
        else if (n === 0) fn();
        else if (n === 2) fn(a, b);
        else fn(a, b, c);
      }
      return true;
    } as never;
  }
}
