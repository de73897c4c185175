/**
 * The NULL security mechanism (RFC 37 §"The NULL Security Mechanism"): each side sends READY with
 * its metadata. The listener admits the peer (authentication hook) before answering with its own
 * READY, or with ERROR "400" on denial, as libzmq does with a ZAP handler.
 */
import { commandData, encodeCommand, isCommand } from './command.js';
import { ZmtpError, ZmtpErrorCode } from './errors.js';
import type { Mechanism, MechanismFactory, MechanismHost, MechanismRole } from './mechanism.js';

class NullMechanism implements Mechanism {
  readonly codec = null;
  private done = false;

  constructor(
    private readonly host: MechanismHost,
    private readonly role: MechanismRole,
  ) {}

  start(): void {
    // The connecting side speaks first; the listener answers only once it has admitted the peer.
    if (this.role === 'client') this.host.sendCommand(encodeCommand('READY', this.host.localMetadata));
  }

  onCommand(body: Uint8Array): void {
    if (this.done || !isCommand(body, 'READY')) {
      throw new ZmtpError(ZmtpErrorCode.UNEXPECTED_COMMAND, 'NULL handshake expected a single READY command');
    }
    this.done = true;
    this.host.admitPeer(commandData(body), undefined, () => {
      if (this.role === 'server') this.host.sendCommand(encodeCommand('READY', this.host.localMetadata));
      this.host.handshakeComplete();
    });
  }

  destroy(): void {}
}

/** The NULL mechanism: no encryption, no authentication beyond the listener's hook. */
export const nullMechanism: MechanismFactory = {
  name: 'NULL',
  create: (host, role) => new NullMechanism(host, role),
};
