/**
 * Every message that arrives, on a listener or on a connection we opened: who sent it (an SN at
 * this message?), what it means ({@link dispatch}), and carrying that out — running the handler
 * through the scheduler, answering on the same connection, completing a request, establishing or
 * closing a connection. C++ does this in its proxy thread (upstream `oxenmq/proxy.cpp`).
 */
import type { Peer } from '../zmtp/index.js';
import { AuthLevel } from './auth.js';
import { ConnectionID } from './connection-id.js';
import { channels } from './diagnostics.js';
import { type LogNote, type Origin, type Outcome, dispatch } from './dispatch.js';
import type { Scheduler } from './jobs/index.js';
import type { Listener, ListenerPeer } from './listeners.js';
import { Message, type MessageSender } from './message.js';
import type { InstanceContext } from './options.js';
import type { Outgoing, Peers } from './peers.js';
import type { Registry } from './registry.js';
import type { Requests } from './requests.js';
import { copyBytes } from '../zmtp/index.js';

const EMPTY = new Uint8Array(0);
/** What a queued command is taken to hold beyond its data: its Message, closure and queue slot. */
const QUEUED_OVERHEAD = 256;

/** Bytes a queued command keeps alive: its data parts, and a constant for the rest. */
function heldBytes(data: readonly Uint8Array[]): number {
  let n = QUEUED_OVERHEAD;
  for (const d of data) n += d.length;
  return n;
}

/** What stays the same for every message on one incoming connection. */
interface KnownPeer {
  readonly pubkey: Uint8Array;
  readonly plain: Origin;
  /** The same with the SN form, made the first time the peer is an SN at a message. */
  sn: Origin | undefined;
  readonly answer: (frames: (Uint8Array | string)[]) => void;
}

/** What inbound handling needs from its instance. */
export interface InboundContext extends InstanceContext {
  readonly registry: Registry;
  readonly requests: Requests;
  readonly peers: Peers;
  readonly scheduler: Scheduler;
  /** What handlers answer through (the instance). */
  readonly sender: MessageSender;
  /** This instance runs as a service node. */
  readonly localSn: boolean;
}

/** The inbound side of one instance. */
export class Inbound {
  readonly #ctx: InboundContext;
  /** Per connection to one of our listeners: what stays the same from message to message. */
  readonly #known = new WeakMap<object, KnownPeer>();
  /** Per connection we opened: its Origin (it changes only if the peer's address does) and answer path. */
  readonly #outgoing = new WeakMap<Outgoing, { origin: Origin; answer: (frames: (Uint8Array | string)[]) => void }>();

  constructor(ctx: InboundContext) {
    this.#ctx = ctx;
  }

  /**
   * A message on listener `l` from the peer at `route`; `self` marks our own in-process listener.
   * What is fixed for a connection (its ConnectionIDs, auth level, address, how to answer it) is
   * worked out on its first message and kept with the peer; only SN status is decided per
   * message, against the active set as it is now.
   */
  fromListener(l: Listener, frames: Uint8Array[], route: Uint8Array, peer: ListenerPeer, self: boolean): void {
    const { peers } = this.#ctx;
    let known = self ? undefined : this.#known.get(peer);
    if (known === undefined) {
      const pubkey = self ? this.#ctx.publicKey : l.curve && peer.publicKey ? peer.publicKey : EMPTY;
      const at = copyBytes(route);
      known = {
        pubkey,
        plain: this.#origin(false, new ConnectionID(l.id, pubkey, at), peer.authData?.auth ?? AuthLevel.none, false, peer.remoteAddress),
        sn: undefined,
        answer: (reply) => l.send(at, reply),
      };
      if (!self) this.#known.set(peer, known);
    }
    let origin = known.plain;
    if (peers.isActive(known.pubkey)) {
      peers.noteIncoming(known.pubkey, l, route);
      origin = known.sn ??= this.#origin(false, ConnectionID.sn(known.pubkey), known.plain.auth, true, known.plain.remote);
    }
    this.#apply(this.#dispatch(frames, origin), origin, known.answer, undefined, peer);
  }

  /** A message on connection `out`, which we opened. */
  fromOutgoing(out: Outgoing, frames: Uint8Array[], remote: string): void {
    if (out.closed) return;
    let known = this.#outgoing.get(out);
    if (known === undefined || known.origin.remote !== remote) {
      const origin = this.#origin(true, out.isSn ? ConnectionID.sn(out.pubkey) : new ConnectionID(out.id, out.pubkey), out.authLevel, out.isSn, remote);
      known = { origin, answer: (reply) => out.link.send(reply) };
      this.#outgoing.set(out, known);
    }
    this.#apply(this.#dispatch(frames, known.origin), known.origin, known.answer, out, out.link.connection ?? undefined);
  }

  #origin(outgoing: boolean, conn: ConnectionID, auth: AuthLevel, remoteSn: boolean, remote: string): Origin {
    return { outgoing, conn, auth, remoteSn, remote, access: Object.freeze({ auth, remoteSn, localSn: this.#ctx.localSn }) };
  }

  #dispatch(frames: Uint8Array[], origin: Origin): Outcome {
    return dispatch(frames, origin, this.#ctx.registry, this.#ctx.localSn);
  }

  /**
   * Carries out what dispatch decided; `answer` sends on the connection the message came in on,
   * and `holder` (that connection, when it is a wire connection) counts a queued command's bytes
   * as its input until a handler takes it, so a peer that outpaces its handlers stops being read.
   */
  #apply(o: Outcome, origin: Origin, answer: (frames: (Uint8Array | string)[]) => void, out: Outgoing | undefined, holder: Partial<Pick<Peer, 'hold'>> | undefined): void {
    const ctx = this.#ctx;
    switch (o.kind) {
      case 'run': {
        const msg = new Message(ctx.sender, o.data, origin.conn, origin.access, origin.remote, o.tag);
        const handler = o.resolved.command.handler;
        let release: (() => void) | undefined;
        // A drop (full category queue) is logged once, by the scheduler; no reply goes back.
        const r = ctx.scheduler.submitCommand(
          o.resolved.category.name,
          () => {
            release?.();
            return handler(msg);
          },
          o.resolved.name,
        );
        if (r === 'queued' && holder?.hold !== undefined) release = holder.hold(heldBytes(o.data));
        if (r !== 'dropped' && channels.command.hasSubscribers) {
          channels.command.publish({ command: o.resolved.name, conn: origin.conn, remote: origin.remote, request: o.tag !== undefined });
        }
        // As C++: only a command that starts at once counts as activity on an outgoing connection.
        if (r === 'started' && out) out.lastActivity = ctx.clock.now();
        return;
      }
      case 'answer':
        if (o.note) this.#note(o.note, origin);
        try {
          answer(o.frames);
        } catch {
          // The peer is gone or its queue is full: ignored, as C++.
        }
        return;
      case 'reply':
        if (!ctx.requests.resolve(o.tag, o.data)) ctx.logger.debug?.('received REPLY with an unknown or expired tag');
        return;
      case 'request-failed':
        if (!ctx.requests.reject(o.tag, o.code)) ctx.throttle.warn('error-reply', origin.remote, `received ${o.code} for an unknown request tag`);
        return;
      case 'hello':
        if (out) ctx.peers.established(out);
        return;
      case 'bye':
        // C++ 1.2 closes the socket but keeps a dangling record; BYE is treated as disconnect(linger 0).
        if (out) ctx.peers.close(out, 0, 'peer said BYE');
        return;
      case 'ignore':
        if (o.note) this.#note(o.note, origin);
        return;
    }
  }

  #note(n: LogNote, origin: Origin): void {
    this.#ctx.throttle[n.level](n.kind, origin.remote, n.text);
  }
}
