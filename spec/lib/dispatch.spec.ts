/**
 * What one incoming message means, decided without any socket: the built-in messages, command
 * lookup with aliases, and the five access checks in C++ oxenmq's order with both error-reply
 * shapes.
 */
import { expect } from 'chai';
import { AuthLevel } from '../../lib/auth.js';
import { ConnectionID } from '../../lib/connection-id.js';
import { type Origin, type Outcome, dispatch } from '../../lib/dispatch.js';
import { Registry } from '../../lib/registry.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const frames = (...parts: string[]): Buffer[] => parts.map(b);
const text = (o: Outcome): string[] => (o.kind === 'answer' ? o.frames.map((f) => (typeof f === 'string' ? f : Buffer.from(f).toString('latin1'))) : []);

function origin(over: Partial<Origin> = {}, localSn = false): Origin {
  const o = { outgoing: false, conn: new ConnectionID(1, new Uint8Array(0), b('r1')), auth: AuthLevel.none, remoteSn: false, remote: '127.0.0.1', ...over };
  return { ...o, access: { auth: o.auth, remoteSn: o.remoteSn, localSn } };
}

function registry(): Registry {
  const r = new Registry();
  r.addCategory('public', AuthLevel.none);
  r.addCommand('public', 'echo', () => {}, true);
  r.addCommand('public', 'hello', () => {}, false);
  r.addCommand('public', 'client.pubkey', () => {}, false);
  r.addCategory('admin', AuthLevel.admin);
  r.addCommand('admin', 'stats', () => {}, true);
  r.addCommand('admin', 'reset', () => {}, false);
  r.addCategory('local', { auth: AuthLevel.none, localSn: true });
  r.addCommand('local', 'ping', () => {}, true);
  r.addCategory('sn', { auth: AuthLevel.none, remoteSn: true });
  r.addCommand('sn', 'ping', () => {}, true);
  r.addCommand('sn', 'note', () => {}, false);
  r.addCategory('café', AuthLevel.none);
  r.addCommand('café', 'crème', () => {}, false);
  r.addAlias('oldecho', 'public.echo');
  r.freeze();
  return r;
}

describe('lib/dispatch', () => {
  const reg = registry();

  describe('built-in messages', () => {
    it('HI on a listener is answered with HELLO; on an outgoing connection it is ignored with a warning', () => {
      expect(text(dispatch(frames('HI'), origin(), reg, false))).to.deep.equal(['HELLO']);
      const o = dispatch(frames('HI'), origin({ outgoing: true }), reg, false);
      expect(o.kind).to.equal('ignore');
      expect(o.kind === 'ignore' && o.note?.level).to.equal('warn');
    });

    it('HELLO and BYE mean something only on a connection we opened', () => {
      expect(dispatch(frames('HELLO'), origin({ outgoing: true }), reg, false).kind).to.equal('hello');
      expect(dispatch(frames('BYE'), origin({ outgoing: true }), reg, false).kind).to.equal('bye');
      for (const name of ['HELLO', 'BYE']) {
        const o = dispatch(frames(name), origin(), reg, false);
        expect(o.kind, name).to.equal('ignore');
        expect(o.kind === 'ignore' && o.note?.text).to.contain(name);
      }
    });

    it('REPLY carries its tag and every frame after it; a REPLY without a tag is ignored', () => {
      const o = dispatch(frames('REPLY', 'tag', 'a', 'b'), origin(), reg, false);
      expect(o.kind).to.equal('reply');
      if (o.kind !== 'reply') return;
      expect(o.tag.toString()).to.equal('tag');
      expect(o.data.map(String)).to.deep.equal(['a', 'b']);
      expect(dispatch(frames('REPLY'), origin(), reg, false)).to.deep.include({ kind: 'ignore' });
    });

    it('an error reply of exactly three frames with REPLY second fails the request with that code', () => {
      for (const code of ['FORBIDDEN', 'FORBIDDEN_SN', 'NOT_A_SERVICE_NODE', 'UNKNOWNCOMMAND', 'NO_REPLY_TAG']) {
        const o = dispatch(frames(code, 'REPLY', 'tag'), origin({ outgoing: true }), reg, false);
        expect(o, code).to.deep.include({ kind: 'request-failed', code });
      }
    });

    it('other error shapes are logged, never dispatched; a bare UNKNOWNCOMMAND (pre-1.1 peers) is silent', () => {
      const o = dispatch(frames('FORBIDDEN', 'public.x'), origin(), reg, false);
      expect(o.kind).to.equal('ignore');
      expect(o.kind === 'ignore' && o.note?.text).to.equal('received FORBIDDEN for "public.x"');
      expect(dispatch(frames('UNKNOWNCOMMAND'), origin(), reg, false)).to.deep.equal({ kind: 'ignore' });
      const weird = dispatch(frames('FORBIDDEN', '\x00\xff'), origin(), reg, false);
      expect(weird.kind === 'ignore' && weird.note?.text).to.equal('received FORBIDDEN for (unprintable command)');
    });

    it('an empty message is ignored', () => {
      expect(dispatch([], origin(), reg, false).kind).to.equal('ignore');
    });
  });

  describe('commands', () => {
    it('a request command runs with the tag split off; a plain command gets every frame as data', () => {
      const r = dispatch(frames('public.echo', 'tag', 'x', 'y'), origin(), reg, false);
      expect(r.kind).to.equal('run');
      if (r.kind !== 'run') return;
      expect(r.resolved.name).to.equal('public.echo');
      expect(r.tag?.toString()).to.equal('tag');
      expect(r.data.map(String)).to.deep.equal(['x', 'y']);
      const p = dispatch(frames('public.hello', 'x'), origin(), reg, false);
      expect(p.kind === 'run' && p.tag).to.equal(undefined);
      expect(p.kind === 'run' && p.data.map(String)).to.deep.equal(['x']);
    });

    it('splits at the first dot: command names may contain dots', () => {
      const r = dispatch(frames('public.client.pubkey'), origin(), reg, false);
      expect(r.kind === 'run' && r.resolved.name).to.equal('public.client.pubkey');
    });

    it('an alias resolves before any check, and the error echo uses the name as received', () => {
      const r = dispatch(frames('oldecho', 't'), origin(), reg, false);
      expect(r.kind === 'run' && r.resolved.name).to.equal('public.echo');
    });

    it('UTF-8 names match the bytes that arrive', () => {
      const r = dispatch([Buffer.from('café.crème', 'utf8')], origin(), reg, false);
      expect(r.kind === 'run' && r.resolved.name).to.equal('café.crème');
    });

    it('an unknown, dotless, leading-dot, empty or over-long command is answered [UNKNOWNCOMMAND][command]', () => {
      for (const name of ['public.nope', 'nope.echo', 'nodot', '.echo', '', 'public.' + 'x'.repeat(245)]) {
        const o = dispatch(frames(name, 'tag'), origin(), reg, false);
        expect(text(o), name).to.deep.equal(['UNKNOWNCOMMAND', name]);
        expect(o.kind === 'answer' && o.note?.level, name).to.equal('warn');
      }
    });

    it('FORBIDDEN: a request gets the REPLY form, a plain command the echo form', () => {
      expect(text(dispatch(frames('admin.stats', 'tag'), origin({ auth: AuthLevel.basic }), reg, false))).to.deep.equal(['FORBIDDEN', 'REPLY', 'tag']);
      expect(text(dispatch(frames('admin.reset'), origin({ auth: AuthLevel.basic }), reg, false))).to.deep.equal(['FORBIDDEN', 'admin.reset']);
      expect(dispatch(frames('admin.stats', 'tag'), origin({ auth: AuthLevel.admin }), reg, false).kind).to.equal('run');
    });

    it('NOT_A_SERVICE_NODE for a localSn category unless we are a service node', () => {
      expect(text(dispatch(frames('local.ping', 'tag'), origin(), reg, false))).to.deep.equal(['NOT_A_SERVICE_NODE', 'REPLY', 'tag']);
      expect(dispatch(frames('local.ping', 'tag'), origin({}, true), reg, true).kind).to.equal('run');
    });

    it('FORBIDDEN_SN for a remoteSn category unless the peer is a service node at this message', () => {
      expect(text(dispatch(frames('sn.ping', 'tag'), origin(), reg, false))).to.deep.equal(['FORBIDDEN_SN', 'REPLY', 'tag']);
      expect(text(dispatch(frames('sn.note'), origin(), reg, false))).to.deep.equal(['FORBIDDEN_SN', 'sn.note']);
      expect(dispatch(frames('sn.ping', 'tag'), origin({ remoteSn: true }), reg, false).kind).to.equal('run');
    });

    it('NO_REPLY_TAG for a request command without data, in the echo form (there is no tag to reply to)', () => {
      expect(text(dispatch(frames('public.echo'), origin(), reg, false))).to.deep.equal(['NO_REPLY_TAG', 'public.echo']);
    });

    it('checks run in C++ order: auth before local SN before remote SN before the tag', () => {
      const r = new Registry();
      r.addCategory('strict', { auth: AuthLevel.admin, localSn: true, remoteSn: true });
      r.addCommand('strict', 'x', () => {}, true);
      r.freeze();
      const o = (over: Partial<Origin>, localSn: boolean, ...rest: string[]) => text(dispatch(frames('strict.x', ...rest), origin(over), r, localSn))[0];
      expect(o({}, false, 't')).to.equal('FORBIDDEN');
      expect(o({ auth: AuthLevel.admin }, false, 't')).to.equal('NOT_A_SERVICE_NODE');
      expect(o({ auth: AuthLevel.admin }, true, 't')).to.equal('FORBIDDEN_SN');
      expect(o({ auth: AuthLevel.admin, remoteSn: true }, true)).to.equal('NO_REPLY_TAG');
    });

    it('the error echo never carries more than the command frame, whatever else was sent', () => {
      expect(text(dispatch(frames('admin.reset', 'secret'), origin(), reg, false))).to.deep.equal(['FORBIDDEN', 'admin.reset']);
    });
  });
});
