/**
 * Categories, commands and aliases, with C++ oxenmq's naming rules (upstream `oxenmq/oxenmq.cpp`
 * `add_category`, `add_command`, `add_command_alias`), frozen at `start()` into one index so that
 * dispatching a message is a single map lookup.
 *
 * Names are matched against the bytes that arrive, so they are keyed by their UTF-8 bytes (as a
 * latin1 string, {@link utf8Key}); the name as registered is kept for logs and statistics.
 */
import { latin1Key, utf8Key } from '../zmtp/index.js';
import { type Access, type AuthLevel, toAccess } from './auth.js';
import { OmqError, OmqErrorCode } from './errors.js';
import type { Message } from './message.js';

/** A command handler; may be async (its worker slot is held until the promise settles). */
export type CommandHandler = (msg: Message) => unknown;

/** Longest category name, in bytes (upstream `MAX_CATEGORY_LENGTH`). */
export const MAX_CATEGORY_LENGTH = 50;
/** Longest command name, in bytes (upstream `MAX_COMMAND_LENGTH`). */
export const MAX_COMMAND_LENGTH = 200;
/** Longest received command string that can name a command: `category.command`. */
export const MAX_FULL_NAME = MAX_CATEGORY_LENGTH + 1 + MAX_COMMAND_LENGTH;

/** One registered category. */
export interface Category {
  /** The name as registered. */
  readonly name: string;
  /** Its UTF-8 bytes as a latin1 string: how received names are matched. */
  readonly key: string;
  readonly access: Access;
  /** Commands by the latin1 key of their UTF-8 name. */
  readonly commands: Map<string, CommandEntry>;
}

/** One registered command. */
export interface CommandEntry {
  /** The name as registered. */
  readonly name: string;
  readonly handler: CommandHandler;
  /** Request commands take their first data frame as the reply tag. */
  readonly isRequest: boolean;
}

/** What a received command name resolves to. */
export interface ResolvedCommand {
  readonly category: Category;
  readonly command: CommandEntry;
  /** `category.command` as registered, for logs and scheduling labels. */
  readonly name: string;
}

function registration(message: string): OmqError {
  return new OmqError(OmqErrorCode.REGISTRATION, message);
}

/** The instance's command table: filled before `start()`, read-only after {@link Registry.freeze}. */
export class Registry {
  readonly #categories = new Map<string, Category>();
  readonly #aliases = new Map<string, string>();
  readonly #index = new Map<string, ResolvedCommand>();
  #frozen = false;
  #lastBytes: Uint8Array | undefined;
  #lastResolved: ResolvedCommand | undefined;

  /** True once {@link Registry.freeze} ran. */
  get frozen(): boolean {
    return this.#frozen;
  }

  /** The registered categories, in registration order. */
  categories(): IterableIterator<Category> {
    return this.#categories.values();
  }

  /** The category registered under `name`, if any. */
  category(name: string): Category | undefined {
    return this.#categories.get(utf8Key(name));
  }

  /**
   * Adds a category: 1–50 bytes without '.', unique. `access` is an AuthLevel (no SN
   * requirements) or `{ auth, remoteSn, localSn }`. `admit` sees the category before it is
   * added; if it throws, nothing is registered.
   */
  addCategory(name: string, access: AuthLevel | string | Partial<Access>, admit?: (category: Category) => void): Category {
    this.#checkOpen('addCategory');
    if (typeof name !== 'string') throw new TypeError('category name must be a string');
    const key = utf8Key(name);
    if (key.length === 0 || key.length > MAX_CATEGORY_LENGTH || key.includes('.')) {
      throw registration(`invalid category name: must be 1-${MAX_CATEGORY_LENGTH} bytes without '.'`);
    }
    if (this.#categories.has(key)) throw registration(`category ${name} already exists`);
    const category: Category = { name, key, access: toAccess(access), commands: new Map() };
    admit?.(category);
    this.#categories.set(key, category);
    return category;
  }

  /** Adds a command (≤ 200 bytes, may contain dots, unique in its category, no alias of that name). */
  addCommand(categoryName: string, name: string, handler: CommandHandler, isRequest: boolean): void {
    this.#checkOpen('addCommand');
    if (typeof handler !== 'function') throw new TypeError('command handler must be a function');
    if (typeof name !== 'string') throw new TypeError('command name must be a string');
    const category = this.category(categoryName);
    if (category === undefined) throw registration(`no such category ${categoryName}`);
    const key = utf8Key(name);
    if (key.length > MAX_COMMAND_LENGTH) throw registration(`command name longer than ${MAX_COMMAND_LENGTH} bytes`);
    if (category.commands.has(key)) throw registration(`command ${categoryName}.${name} already exists`);
    if (this.#aliases.has(`${category.key}.${key}`)) throw registration(`command ${categoryName}.${name} collides with an alias`);
    category.commands.set(key, { name, handler, isRequest });
  }

  /**
   * Makes `from` an alias of the full command `to`, resolved before any access check. `from` is
   * non-empty and does not start with '.' (it need not contain one: old names had none); `to` is
   * `category.command`; an existing command cannot be shadowed.
   */
  addAlias(from: string, to: string): void {
    this.#checkOpen('addCommandAlias');
    if (typeof from !== 'string' || typeof to !== 'string') throw new TypeError('alias names must be strings');
    const f = utf8Key(from);
    const t = utf8Key(to);
    if (f.length === 0 || f.startsWith('.')) throw registration('alias source must be non-empty and not start with a dot');
    if (t.indexOf('.') <= 0) throw registration('alias target must be category.command');
    if (this.#aliases.has(f)) throw registration(`alias ${from} already exists`);
    if (this.#lookupSplit(f) !== undefined) throw registration(`alias ${from} would shadow an existing command`);
    this.#aliases.set(f, t);
  }

  /**
   * Ends registration and indexes every `category.command`, so {@link Registry.resolve} is one
   * lookup (splitting at the first dot, as upstream does, gives the same answer for every name).
   */
  freeze(): void {
    if (this.#frozen) return;
    this.#frozen = true;
    for (const category of this.#categories.values()) {
      for (const [key, command] of category.commands) {
        this.#index.set(`${category.key}.${key}`, { category, command, name: `${category.name}.${command.name}` });
      }
    }
  }

  /**
   * The command a received name (the first frame's bytes as latin1) resolves to, after one alias
   * step; undefined when unknown. Names longer than {@link MAX_FULL_NAME} never resolve.
   */
  resolve(wireName: string): ResolvedCommand | undefined {
    if (wireName.length > MAX_FULL_NAME) return undefined;
    const name = this.#aliases.size > 0 ? (this.#aliases.get(wireName) ?? wireName) : wireName;
    return this.#index.get(name);
  }

  /**
   * {@link Registry.resolve} for the received bytes themselves. Traffic mostly repeats the same
   * command, so the last name resolved is kept and compared byte for byte before any string is
   * made of the new one.
   */
  resolveBytes(raw: Uint8Array): ResolvedCommand | undefined {
    const last = this.#lastBytes;
    if (last !== undefined && last.length === raw.length) {
      let i = 0;
      while (i < raw.length && raw[i] === last[i]) i++;
      if (i === raw.length) return this.#lastResolved;
    }
    const found = this.resolve(latin1Key(raw));
    if (found !== undefined && raw.length <= 64) {
      this.#lastBytes = Uint8Array.from(raw);
      this.#lastResolved = found;
    }
    return found;
  }

  #lookupSplit(full: string): ResolvedCommand | undefined {
    const dot = full.indexOf('.');
    if (dot <= 0) return undefined;
    const category = this.#categories.get(full.slice(0, dot));
    const command = category?.commands.get(full.slice(dot + 1));
    return category && command ? { category, command, name: `${category.name}.${command.name}` } : undefined;
  }

  #checkOpen(what: string): void {
    if (this.#frozen) throw new OmqError(OmqErrorCode.INVALID_STATE, `${what}: not allowed after start()`);
  }
}
