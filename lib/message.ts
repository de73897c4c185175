/**
 * What a command handler receives (C++ `oxenmq::Message`, upstream `oxenmq/message.h`) and the
 * deferred-reply helper (`send_later()`).
 */
import type { Access } from './auth.js';
import type { ConnectionID } from './connection-id.js';
import type { RequestOptions, SendArg, SendOptions } from './send.js';
import { copyBytes } from '../zmtp/index.js';

/** The subset of OxenMQ a Message uses to answer; keeps message.ts free of the core's internals. */
export interface MessageSender {
  send(to: ConnectionID, command: string, ...args: SendArg[]): void;
  request(to: ConnectionID, command: string, parts?: ReadonlyArray<Uint8Array | string>, options?: RequestOptions): Promise<Uint8Array[]>;
}

/**
 * How answers travel (C++ passes `send_option::optional{!conn.is_sn}`): to a service node a new
 * connection may be opened; to anyone else only the connection the message came on is used.
 * Shared, frozen option objects: answering allocates none.
 */
const STRONG: SendOptions = Object.freeze({ optional: false });
const WEAK: SendOptions = Object.freeze({ optional: true });

/** An incoming command as handed to its handler. */
export class Message {
  /** The data frames (for request commands: every frame after the reply tag). Views; copy to keep past the handler if you mutate. */
  readonly data: Uint8Array[];
  /** Who sent it: SN form when the peer is a service node at this message, else the connection. */
  readonly conn: ConnectionID;
  /** The peer's access at this message. */
  readonly access: Access;
  /** The peer's address (IP text for TCP, "localhost" for IPC, "(unknown)" in-process). */
  readonly remote: string;
  /** The reply tag of a request command; undefined for plain commands. */
  readonly replyTag: Uint8Array | undefined;
  readonly #omq: MessageSender;

  /** @internal */
  constructor(omq: MessageSender, data: Uint8Array[], conn: ConnectionID, access: Access, remote: string, replyTag: Uint8Array | undefined) {
    this.#omq = omq;
    this.data = data;
    this.conn = conn;
    this.access = access;
    this.remote = remote;
    this.replyTag = replyTag;
  }

  /**
   * Sends `command` back to the originating peer. To a service node this is a "strong" send (a
   * new connection is opened if needed); otherwise it goes only over the connection the message
   * came on.
   */
  sendBack(command: string, ...args: SendArg[]): void {
    this.#omq.send(this.conn, command, ...args, (this.conn.isSn ? STRONG : WEAK));
  }

  /** Replies to a request: `[REPLY][tag][parts…]`. Throws if the message carried no tag. */
  sendReply(...args: SendArg[]): void {
    if (this.replyTag === undefined) throw new TypeError('sendReply: this message is not a request (no reply tag)');
    this.#omq.send(this.conn, 'REPLY', this.replyTag, ...args, (this.conn.isSn ? STRONG : WEAK));
  }

  /** Sends a request back to the originating peer and resolves with its reply. */
  sendRequest(command: string, parts?: ReadonlyArray<Uint8Array | string>, options?: RequestOptions): Promise<Uint8Array[]> {
    return this.#omq.request(this.conn, command, parts, { optional: !this.conn.isSn, ...options });
  }

  /**
   * A copyable object for answering after the handler has returned (C++ `send_later()`):
   * `reply(...)`, `back(cmd, ...)`, `request(cmd, ...)`, and `send(...)` which replies if the
   * message had a tag and otherwise sends back.
   */
  sendLater(): DeferredSend {
    return new DeferredSend(this.#omq, this.conn, this.replyTag);
  }
}

/** The deferred form of a {@link Message}'s reply helpers; holds no reference to the message data. */
export class DeferredSend {
  readonly #omq: MessageSender;
  /** The connection the message came from. */
  readonly conn: ConnectionID;
  /** The request's reply tag (a copy), or undefined for a plain command. */
  readonly replyTag: Uint8Array | undefined;

  /** @internal */
  constructor(omq: MessageSender, conn: ConnectionID, replyTag: Uint8Array | undefined) {
    this.#omq = omq;
    this.conn = conn;
    // Copy: the tag may be a view into a socket chunk the caller no longer owns.
    this.replyTag = replyTag === undefined ? undefined : copyBytes(replyTag);
  }

  /** As {@link Message.sendBack}: sends `command` to the originating peer. */
  back(command: string, ...args: SendArg[]): void {
    this.#omq.send(this.conn, command, ...args, (this.conn.isSn ? STRONG : WEAK));
  }

  /** As {@link Message.sendReply}: replies to the request. Throws if the message was not a request. */
  reply(...args: SendArg[]): void {
    if (this.replyTag === undefined) throw new TypeError('reply: the deferred message was not a request');
    this.#omq.send(this.conn, 'REPLY', this.replyTag, ...args, (this.conn.isSn ? STRONG : WEAK));
  }

  /** As {@link Message.sendRequest}: sends a request to the originating peer. */
  request(command: string, parts?: ReadonlyArray<Uint8Array | string>, options?: RequestOptions): Promise<Uint8Array[]> {
    return this.#omq.request(this.conn, command, parts, { optional: !this.conn.isSn, ...options });
  }

  /** `reply(...)` if the message had a tag, else `back(command, ...)` where the first arg is the command. */
  send(...args: SendArg[]): void {
    if (this.replyTag !== undefined) this.reply(...args);
    else {
      const [command, ...rest] = args;
      if (typeof command !== 'string') throw new TypeError('send: a non-request deferred message needs a command first');
      this.back(command, ...rest);
    }
  }
}
