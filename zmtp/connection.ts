/**
 * One ZMTP 3.1 connection over a net.Socket (RFC 37 §"Overall Behavior"): the state machine
 * greeting → handshake → ready → closing → closed, with the handshake timeout, heartbeat hookup
 * (RFC 37 §"Connection Heartbeating") and the ERROR command. It delegates the rest: bytes in to
 * the Decoder, bytes out to the Encoder, the security handshake to a mechanism, who may connect
 * to the Admission rules, the send queue to its owner. It knows nothing of routing (router.ts) or
 * reconnection (dealer.ts).
 *
 * Data flows one way: socket chunks → Decoder → (mechanism codec) → frames → message → owner;
 * and back: owner → SendQueue / Encoder (→ mechanism codec) → socket.
 */
import type { ByteBudget } from './budget.js';
import type { TimerHandle } from './clock.js';
import { commandData, commandName, decodeErrorReason, encodeError, isCommand } from './command.js';
import { Decoder } from './decoder.js';
import { ZmtpError, ZmtpErrorCode, isZmtpError } from './errors.js';
import { Encoder } from './encoder.js';
import { FLAG_COMMAND, FLAG_MORE } from './frame.js';
import { decodeGreeting, encodeGreeting } from './greeting.js';
import { Heartbeat } from './heartbeat.js';
import type { FrameCodec, Mechanism, MechanismFactory, MechanismHost, MechanismRole } from './mechanism.js';
import type { Admission, Peer, Verdict } from './admission.js';
import { type Metadata, encodeMetadata } from './metadata.js';
import type { ResolvedZmtpOptions } from './options.js';
import type { OutgoingMessage, SendQueue } from './send-queue.js';
import type { ZmtpStream } from './stream.js';
import { EMPTY_BYTES, latin1Bytes } from './bytes.js';

/** Callbacks from a connection to its owner (router or dealer). */
export interface ConnectionOwner<A> {
  connReady(conn: ZmtpConnection<A>): void;
  connMessage(conn: ZmtpConnection<A>, frames: Uint8Array[]): void;
  /** Exactly once per connection; `err` is null for a clean close by us or an orderly close by the peer. */
  connClose(conn: ZmtpConnection<A>, err: ZmtpError | null, wasReady: boolean): void;
  /** Called when a blocked socket drains, so the owner can refill it. */
  connDrain?(conn: ZmtpConnection<A>): void;
}

/** Construction parameters of a connection. */
export interface ConnectionParams<A> {
  /** A net.Socket (tcp, ipc) or a WebSocket adapter (ws-stream.ts). */
  socket: ZmtpStream;
  role: MechanismRole;
  /** Our socket type and who we admit (with the listener's authentication hook). */
  admission: Admission<A>;
  /** Our routing id announced in the handshake (DEALER); empty for a ROUTER. */
  identity: Uint8Array;
  mechanism: MechanismFactory;
  options: ResolvedZmtpOptions;
  owner: ConnectionOwner<A>;
  remoteAddress: string;
  /** The owner's queue for this peer, drained here: the dealer's outlives reconnections. */
  queue: SendQueue;
}

const enum State {
  Greeting,
  Handshake,
  Ready,
  Closing,
  Closed,
}

let nextConnectionSerial = 1;

/**
 * What each frame of a multipart message in progress is counted as beyond its bytes: the Buffer
 * view that holds it (10,000 one-byte frames are 10 KB on the wire and about 1 MB held).
 */
const PART_HELD = 96;
/** What {@link ZmtpConnection.hold} returns when there is nothing to give back. */
const noRelease = (): void => {};
/** No PONG while this much is already waiting to be written (a PING flood must not grow it). */
const PONG_BACKLOG_LIMIT = 64 * 1024;
const EMPTY = EMPTY_BYTES;
const NO_METADATA: Metadata = new Map();

/**
 * A connection; its owner hands it to users only as the read-only {@link Peer} view it implements
 * (what is known of the peer, filled in by the handshake).
 */
export class ZmtpConnection<A = unknown> implements MechanismHost, Peer<A> {
  readonly serial = nextConnectionSerial++;
  readonly socket: ZmtpStream;
  readonly role: MechanismRole;
  readonly remoteAddress: string;
  /** The mechanism name ("NULL", "CURVE"). */
  readonly mechanism: string;
  readonly localMetadata: Uint8Array;
  /** Messages accepted by send() but not yet handed to the socket (the owner's queue). */
  readonly queue: SendQueue;

  // Peer: set once, when the peer is admitted.
  identity: Uint8Array = EMPTY;
  publicKey: Uint8Array | undefined = undefined;
  metadata: Metadata = NO_METADATA;
  authData: A | undefined = undefined;

  private state = State.Greeting;
  private readonly options: ResolvedZmtpOptions;
  private readonly owner: ConnectionOwner<A>;
  private readonly admission: Admission<A>;
  private readonly mech: Mechanism;
  private readonly decoder: Decoder;
  private readonly encoder: Encoder;
  /** Created only when heartbeats are on or the peer PINGs us: idle connections stay small. */
  private heartbeat: Heartbeat | null = null;
  private codec: FrameCodec | null = null;
  private handshakeTimer: TimerHandle | null = null;
  private lingerTimer: TimerHandle | null = null;
  private partial: Uint8Array[] = [];
  private partialBytes = 0;
  private closeError: ZmtpError | null = null;
  private wasReady = false;
  /** The process input budget, and what this connection has charged to it. */
  private readonly inputBudget: ByteBudget;
  private inputHeld = 0;
  /** Bytes of delivered messages the owner keeps ({@link ZmtpConnection.hold}), counted as input. */
  private ownerHeld = 0;
  /** Bumped when the connection gives back everything: older hold releases then do nothing. */
  private holdEpoch = 0;
  /** A message completed while the input budget was over: stop reading after this chunk. */
  private pauseAfterPush = false;
  private inputPaused = false;
  /** The callback the input budget wakes, made on the first pause (idle connections stay small). */
  private resumer: (() => void) | null = null;

  constructor(p: ConnectionParams<A>) {
    this.socket = p.socket;
    this.role = p.role;
    this.remoteAddress = p.remoteAddress;
    this.mechanism = p.mechanism.name;
    this.options = p.options;
    this.owner = p.owner;
    this.admission = p.admission;
    this.queue = p.queue;
    this.inputBudget = p.options.inputBudget;
    this.localMetadata = encodeMetadata([
      ['Socket-Type', latin1Bytes(p.admission.socketType)],
      ['Identity', p.identity],
    ]);
    this.mech = p.mechanism.create(this, p.role);
    this.decoder = new Decoder(this, { maxMessageSize: p.options.maxMessageSize });
    this.encoder = new Encoder(p.socket, undefined, p.options.clock);
    if (p.options.heartbeatInterval > 0) this.heartbeat = this.newHeartbeat();

    const s = this.socket;
    s.setNoDelay?.(true);
    s.on('data', this.onData);
    s.on('drain', this.onSocketDrain);
    s.on('error', this.onSocketError);
    s.on('close', this.onSocketClose);
    s.on('end', this.onSocketEnd);

    if (p.options.handshakeTimeout > 0) {
      this.handshakeTimer = p.options.clock.setTimeout(() => {
        this.handshakeTimer = null;
        if (this.state < State.Ready) {
          this.fail(new ZmtpError(ZmtpErrorCode.HANDSHAKE_TIMEOUT, `handshake did not complete within ${p.options.handshakeTimeout} ms`));
        }
      }, p.options.handshakeTimeout);
    }
    // Our whole greeting goes out at once. libzmq sends 10 bytes and waits for the peer's before
    // the rest (RFC 37 §"Detecting ZMTP 1.0 and 2.0 Peers"): waiting for its greeting would deadlock.
    this.encoder.raw(encodeGreeting(p.mechanism.name, p.identity.length));
    // The connecting side's first handshake command (NULL READY, CURVE HELLO) follows the greeting
    // in the same write instead of waiting for the peer's greeting: one trip less per connection.
    // libzmq reads a greeting and no further (`src/zmtp_engine.cpp`), so what follows waits in its
    // socket for the handshake. Nothing in that command depends on the peer's greeting, which is
    // still checked before any answer is read. A failure here closes the connection (the socket's
    // close is reported later, when the owner already holds this connection).
    try {
      this.mech.start();
    } catch (err) {
      this.abort(err);
    }
  }

  /** True once the handshake has completed and until the connection closes. */
  get ready(): boolean {
    return this.state === State.Ready;
  }

  /**
   * Writes one multipart message, or queues it behind others or while the socket pushes back.
   * Throws TypeError for a bad part (nothing is queued or written), QUEUE_FULL (from the queue)
   * when it is full, CLOSED when the connection is closing; if the codec fails on it, the
   * connection ends and its error is thrown.
   */
  send(msg: OutgoingMessage): void {
    if (this.state >= State.Closing) throw new ZmtpError(ZmtpErrorCode.CLOSED, 'connection is closed');
    if (this.state !== State.Ready || this.encoder.blocked || this.queue.length > 0) {
      this.queue.push(msg);
      return;
    }
    try {
      this.encoder.message(msg);
    } catch (err) {
      // A bad part is the caller's TypeError, and nothing was written. A codec that threw has
      // failed the encoder: the connection cannot go on.
      if (this.encoder.failure !== null) this.abort(err);
      throw err;
    }
  }

  /** Writes queued messages until the socket pushes back (only once the handshake is done). */
  flush(): void {
    if (this.state === State.Ready) this.writeQueued();
  }

  private writeQueued(): void {
    try {
      while (!this.encoder.blocked) {
        const msg = this.queue.shift();
        if (msg === undefined) break;
        this.encoder.checked(msg);
      }
      // What is left has waited past a flush: it counts against the high-water mark.
      if (this.queue.length > 0) this.queue.settle();
    } catch (err) {
      // The queue only holds checked messages: this is the codec failing the encoder.
      this.abort(err);
    }
  }

  /**
   * Closes the connection. With `lingerMs` > 0 queued messages are still written and the socket
   * is ended gracefully, but destroyed after at most `lingerMs`; with 0 it is destroyed at once.
   */
  close(lingerMs = 0): void {
    if (this.state >= State.Closing) return;
    const flushable = this.state === State.Ready;
    this.state = State.Closing;
    this.stopTimers();
    if (lingerMs > 0 && flushable) {
      // Write what was queued before close(); the socket ends once it is all handed over
      // (here, or on 'drain'), and is destroyed if that takes longer than the linger.
      this.writeQueued();
      this.encoder.flush();
      if (!this.encoder.blocked) this.socket.end();
      this.lingerTimer = this.options.clock.setTimeout(() => this.socket.destroy(), lingerMs);
    } else {
      this.socket.destroy();
    }
  }

  /** Ends the connection because of `err` (logged by the owner). */
  fail(err: ZmtpError): void {
    if (this.state >= State.Closing) return;
    this.closeError ??= err;
    this.state = State.Closing;
    this.stopTimers();
    this.socket.destroy();
  }

  // --- MechanismHost ------------------------------------------------------------------------

  sendCommand(body: Uint8Array): void {
    if (this.state >= State.Closing) return;
    try {
      this.encoder.command(body);
    } catch (err) {
      // Only a codec can throw here (after the handshake: a heartbeat, from a timer).
      this.abort(err);
    }
  }

  admitPeer(metadata: Uint8Array, publicKey: Uint8Array | undefined, accepted: () => void): void {
    const { identity, metadata: md } = this.admission.check(metadata);
    this.identity = identity;
    this.metadata = md;
    this.publicKey = publicKey;
    if (this.role !== 'server' || !this.admission.hasHook) {
      accepted();
      return;
    }
    const req = { address: this.remoteAddress, mechanism: this.mechanism, publicKey, identity, metadata: md };
    this.admission.decide(req, (v) => this.applyVerdict(v, accepted));
  }

  handshakeComplete(): void {
    if (this.state !== State.Handshake) return;
    this.state = State.Ready;
    this.wasReady = true;
    this.encoder.codec = this.codec = this.mech.codec;
    if (this.handshakeTimer !== null) {
      this.options.clock.clearTimeout(this.handshakeTimer);
      this.handshakeTimer = null;
    }
    this.heartbeat?.start();
    try {
      this.owner.connReady(this);
    } catch (err) {
      // A throwing 'connect' listener is the application's bug: log it, keep the connection.
      this.options.logger.error?.(`zmtp: connect handler threw on connection #${this.serial}`, err);
    }
    const queued = this.queue.length > 0;
    this.flush();
    // What waited for the handshake is all written: whoever waits for room may go on.
    if (queued && this.queue.length === 0 && !this.encoder.blocked) this.owner.connDrain?.(this);
  }

  // --- DecoderSink --------------------------------------------------------------------------

  onGreeting(greeting: Uint8Array): void {
    decodeGreeting(greeting, this.mechanism);
    this.state = State.Handshake;
  }

  onFrame(flags: number, body: Uint8Array): void {
    // Liveness counts completed frames, not bytes: libzmq counts any received bytes
    // (`src/zmtp_engine.cpp`, `in_event` resets the heartbeat timeout on every read), so a peer
    // trickling one byte of a frame at a time stays alive forever while its frame is held.
    // Here a frame that takes longer than the heartbeat timeout ends the connection.
    this.heartbeat?.markReceived();
    if (this.state === State.Ready) {
      if (this.codec !== null) {
        body = this.codec.decodeFrame(flags, body);
        flags = this.codec.lastFlags;
      }
      if (flags & FLAG_COMMAND) {
        this.onReadyCommand(body);
        return;
      }
      const parts = this.partial;
      parts.push(body);
      this.partialBytes += body.length;
      const maxBytes = this.options.maxMultipartSize;
      if (maxBytes >= 0 && this.partialBytes > maxBytes) {
        // The per-frame limit alone would let one unfinished message hold frames × 1 MiB.
        throw new ZmtpError(ZmtpErrorCode.MESSAGE_TOO_LARGE, `message exceeds maxMultipartSize (${maxBytes} bytes)`);
      }
      if (flags & FLAG_MORE) {
        if (parts.length >= this.options.maxFramesPerMessage) {
          throw new ZmtpError(ZmtpErrorCode.TOO_MANY_FRAMES, `message has more than ${this.options.maxFramesPerMessage} frames`);
        }
        return;
      }
      this.partial = [];
      this.partialBytes = 0;
      if (this.inputOver()) this.pauseAfterPush = true;
      this.deliver(parts);
      return;
    }
    if (this.state !== State.Handshake) return;
    if (!(flags & FLAG_COMMAND)) {
      throw new ZmtpError(ZmtpErrorCode.UNEXPECTED_COMMAND, 'data frame received before the handshake completed');
    }
    if (isCommand(body, 'ERROR')) {
      const reason = decodeErrorReason(commandData(body));
      const shown = /^[0-9]{3}$/.test(reason) ? reason : '(non-standard reason)';
      throw new ZmtpError(ZmtpErrorCode.PEER_ERROR, `peer refused the handshake with ERROR ${shown}`);
    }
    this.mech.onCommand(body);
  }

  // --- internals ----------------------------------------------------------------------------

  private deliver(parts: Uint8Array[]): void {
    try {
      this.owner.connMessage(this, parts);
    } catch (err) {
      // A throwing handler must not take the connection (or the process) down with it.
      this.options.logger.error?.(`zmtp: message handler threw on connection #${this.serial}`, err);
    }
  }

  private onReadyCommand(body: Uint8Array): void {
    if (isCommand(body, 'PING')) {
      const backedUp = this.encoder.blocked || this.encoder.backlog > PONG_BACKLOG_LIMIT;
      (this.heartbeat ??= this.newHeartbeat()).onPing(commandData(body), !backedUp);
    } else if (isCommand(body, 'PONG')) {
      // Any traffic already counted as a sign of life.
    } else {
      const name = commandName(body);
      this.options.logger.debug?.(`zmtp: ignoring ${name.length <= 16 && /^[A-Za-z-]+$/.test(name) ? name : 'unknown'} command after the handshake`);
    }
  }

  /** The hook has decided (maybe later: the connection may have ended meanwhile). Never throws. */
  private applyVerdict(v: Verdict<A>, accepted: () => void): void {
    if (this.state !== State.Handshake) return;
    if (!v.allow) {
      this.deny(v.status, v.cause);
      return;
    }
    this.authData = v.data;
    try {
      accepted();
    } catch (err) {
      this.abort(err);
    }
  }

  /** Sends ERROR with `status` (plaintext, as libzmq after a ZAP denial) and closes. */
  private deny(status: string, cause?: unknown): void {
    if (this.state !== State.Handshake) return;
    if (cause !== undefined) this.options.logger.error?.('zmtp: authentication hook failed', cause);
    this.sendCommand(encodeError(status));
    this.closeError = new ZmtpError(ZmtpErrorCode.AUTH_DENIED, `peer denied by the authentication hook (${status})`, { cause });
    this.state = State.Closing;
    this.stopTimers();
    this.encoder.flush();
    this.socket.end();
    // Do not wait for the peer's FIN forever.
    this.lingerTimer = this.options.clock.setTimeout(() => this.socket.destroy(), 1000);
  }

  private newHeartbeat(): Heartbeat {
    const o = this.options;
    // A transport with its own keepalive carries the PINGs (libzmq's ws engine answers no other).
    const ping = this.socket.ping?.bind(this.socket);
    const host = ping === undefined ? this : { sendCommand: () => ping(), fail: (e: ZmtpError) => this.fail(e) };
    return new Heartbeat(host, o.clock, o.heartbeatInterval, o.heartbeatTimeout, o.heartbeatTtl);
  }

  private stopTimers(): void {
    const clock = this.options.clock;
    if (this.handshakeTimer !== null) clock.clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.heartbeat?.stop();
  }

  /**
   * Bytes of input this connection holds: the decoder's frame in part, and the frames of a
   * multipart message in progress. What it has charged to the process input budget.
   */
  get inputBytes(): number {
    return this.inputHeld;
  }

  /** True while reading is paused because the process input budget is spent. */
  get readPaused(): boolean {
    return this.inputPaused;
  }

  /**
   * Brings the input budget up to date after a chunk, and stops reading if a message completed
   * while the budget was spent. Only a connection at a message boundary is paused: one in the
   * middle of a message keeps reading until it ends (bounded by maxMessageSize and
   * maxMultipartSize), so that paused connections never wait for each other, and what a paused
   * one holds is at most the rest of the chunk that completed its message. Reading resumes when
   * the budget has room again.
   */
  hold(bytes: number): () => void {
    if (this.state >= State.Closing || !(bytes > 0)) return noRelease;
    const epoch = this.holdEpoch;
    this.ownerHeld += bytes;
    this.inputBudget.charge(bytes);
    this.inputHeld += bytes;
    // Called while a message is delivered: accountInput pauses once the chunk is done.
    if (this.inputOver()) this.pauseAfterPush = true;
    let done = false;
    return () => {
      if (done || epoch !== this.holdEpoch) return;
      done = true;
      this.ownerHeld -= bytes;
      this.inputHeld -= bytes;
      this.inputBudget.release(bytes);
      if (this.inputPaused && !this.inputOver()) this.resumeInput();
    };
  }

  /** True while this connection's input or the process input budget is over its limit. */
  private inputOver(): boolean {
    const max = this.options.maxInputBytes;
    return this.inputBudget.over || (max >= 0 && this.inputHeld > max);
  }

  private accountInput(): void {
    const held = this.decoder.bufferedBytes + this.partialBytes + this.partial.length * PART_HELD + this.ownerHeld;
    const delta = held - this.inputHeld;
    if (delta !== 0) {
      this.inputHeld = held;
      if (delta > 0) this.inputBudget.charge(delta);
      else this.inputBudget.release(-delta);
    }
    if (this.pauseAfterPush) {
      this.pauseAfterPush = false;
      if (this.inputOver() && !this.inputPaused && this.state < State.Closing) {
        this.inputPaused = true;
        this.socket.pause();
        // Over the process budget: woken when it has room. Over our own limit only: woken by a release.
        if (this.inputBudget.over) this.inputBudget.waitForRoom((this.resumer ??= () => this.resumeInput()));
      }
    }
  }

  private resumeInput(): void {
    if (!this.inputPaused) return;
    if (this.inputOver()) {
      // Still over one limit: keep waiting (for the budget, or for the owner's next release).
      if (this.inputBudget.over) this.inputBudget.waitForRoom((this.resumer ??= () => this.resumeInput()));
      return;
    }
    this.inputPaused = false;
    if (this.state < State.Closing) this.socket.resume();
  }

  /** Gives back everything this connection charged to the input budget (it is closing). */
  private releaseInput(): void {
    if (this.inputPaused) {
      this.inputPaused = false;
      if (this.resumer !== null) this.inputBudget.cancelWait(this.resumer);
    }
    if (this.inputHeld > 0) this.inputBudget.release(this.inputHeld);
    this.inputHeld = 0;
    this.ownerHeld = 0;
    this.holdEpoch++;
  }

  private readonly onData = (chunk: Uint8Array): void => {
    if (this.state >= State.Closing) return;
    if (chunk.length === 0) {
      // A whole keepalive of the transport (a WebSocket ping or pong; see ZmtpStream.ping): alive.
      this.heartbeat?.markReceived();
      return;
    }
    try {
      this.decoder.push(chunk);
    } catch (err) {
      this.abort(err);
    }
    this.accountInput();
  };

  /**
   * Ends the connection because handling it threw. A ZmtpError is the verdict of our protocol
   * checks (the peer misbehaved, or a timer ran out) and ends it as is. Anything else is a bug in
   * this layer or a mechanism, never the peer's doing: it is logged at error level and ends the
   * connection with ERR_ZMTP_INTERNAL, so that it cannot pass for peer misbehaviour.
   */
  private abort(err: unknown): void {
    if (isZmtpError(err)) {
      this.fail(err);
      return;
    }
    if (this.state >= State.Closing) return;
    this.options.logger.error?.(`zmtp: internal error on connection #${this.serial}`, err);
    this.fail(new ZmtpError(ZmtpErrorCode.INTERNAL, 'internal error while handling the connection', { cause: err }));
  }

  private readonly onSocketDrain = (): void => {
    this.encoder.drained();
    if (this.state === State.Ready) {
      this.flush();
      if (!this.encoder.blocked) this.owner.connDrain?.(this);
    } else if (this.state === State.Closing && this.lingerTimer !== null) {
      // Lingering: keep writing what was queued before close().
      this.writeQueued();
      this.encoder.flush();
      if (!this.encoder.blocked) this.socket.end();
    }
  };

  private readonly onSocketError = (err: Error): void => {
    // A stream that checks its own framing (ws-stream.ts) reports what it found as a ZmtpError.
    this.closeError ??= isZmtpError(err) ? err : new ZmtpError(ZmtpErrorCode.TRANSPORT, `transport error: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err });
  };

  private readonly onSocketEnd = (): void => {
    // The peer half-closed: we never keep half-open ZMTP connections.
    if (this.state < State.Closing && this.state !== State.Ready) {
      this.closeError ??= new ZmtpError(ZmtpErrorCode.TRANSPORT, 'peer closed the connection during the handshake');
    } else if (this.state === State.Ready && (this.decoder.midFrame || this.partial.length > 0)) {
      // Not an orderly close: what the peer had started to send is lost, so say so.
      this.closeError ??= new ZmtpError(ZmtpErrorCode.TRANSPORT, 'peer closed the connection in the middle of a message');
    }
    this.socket.end();
  };

  private readonly onSocketClose = (): void => {
    if (this.state === State.Closed) return;
    this.state = State.Closed;
    this.stopTimers();
    if (this.lingerTimer !== null) this.options.clock.clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    this.mech.destroy();
    this.partial = [];
    this.partialBytes = 0;
    this.releaseInput();
    try {
      this.owner.connClose(this, this.closeError, this.wasReady);
    } catch (err) {
      // Thrown inside the socket's 'close' event it would be uncaught: log it instead.
      this.options.logger.error?.(`zmtp: disconnect handler threw on connection #${this.serial}`, err);
    }
  };
}
