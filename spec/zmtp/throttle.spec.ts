/**
 * Rate-limited log lines: a peer repeating a line-worthy mistake gets a few lines and then one
 * summary per interval, per kind and peer, with bounded memory. Manual clock throughout.
 */
import { expect } from 'chai';
import { ManualClock } from '../../zmtp/clock.js';
import { LogThrottle } from '../../zmtp/throttle.js';

class Lines {
  readonly lines: string[] = [];
  warn(msg: string): void {
    this.lines.push('warn ' + msg);
  }
  info(msg: string): void {
    this.lines.push('info ' + msg);
  }
}

describe('zmtp/throttle', () => {
  it('writes the first `burst` lines of a kind and peer, then one summary when the interval ends', () => {
    const clock = new ManualClock();
    const sink = new Lines();
    const t = new LogThrottle(sink, clock, { burst: 2, intervalMs: 1000 });
    for (let i = 0; i < 10; i++) t.warn('bye', '1.2.3.4', `BYE #${i}`);
    expect(sink.lines).to.deep.equal(['warn BYE #0', 'warn BYE #1']);
    clock.advance(999);
    expect(sink.lines).to.have.length(2);
    clock.advance(1);
    expect(sink.lines[2]).to.equal('warn 8 more "bye" lines from 1.2.3.4 suppressed in the last 1 s');
    // A new interval starts afresh.
    t.warn('bye', '1.2.3.4', 'BYE again');
    expect(sink.lines.at(-1)).to.equal('warn BYE again');
  });

  it('counts each kind and each peer separately, and writes no summary when nothing was suppressed', () => {
    const clock = new ManualClock();
    const sink = new Lines();
    const t = new LogThrottle(sink, clock, { burst: 1, intervalMs: 1000 });
    t.warn('bye', 'a', 'a1');
    t.warn('bye', 'b', 'b1');
    t.info('denied', 'a', 'a-denied');
    t.warn('bye', 'a', 'a2');
    clock.advance(1000);
    expect(sink.lines).to.deep.equal(['warn a1', 'warn b1', 'info a-denied', 'warn 1 more "bye" lines from a suppressed in the last 1 s']);
  });

  it('past maxKeys distinct peers, new peers share one window per kind: memory stays bounded', () => {
    const clock = new ManualClock();
    const sink = new Lines();
    const t = new LogThrottle(sink, clock, { burst: 1, intervalMs: 1000, maxKeys: 4 });
    for (let i = 0; i < 1000; i++) t.warn('handshake', `10.0.0.${i}`, `peer ${i}`);
    // Four peers got their own line; the 996 others shared one window: one line, then suppressed.
    expect(sink.lines).to.have.length(5);
    clock.advance(1000);
    expect(sink.lines.at(-1)).to.equal('warn 995 more "handshake" lines from (many peers) suppressed in the last 1 s');
  });

  it('close() writes pending summaries at once and leaves no timer behind', () => {
    const clock = new ManualClock();
    const sink = new Lines();
    const t = new LogThrottle(sink, clock, { burst: 1, intervalMs: 1000 });
    t.warn('x', 'p', 'one');
    t.warn('x', 'p', 'two');
    t.close();
    expect(sink.lines).to.deep.equal(['warn one', 'warn 1 more "x" lines from p suppressed in the last 1 s']);
    expect(clock.pending).to.equal(0);
  });

  it('a level the sink does not have is skipped without error', () => {
    const clock = new ManualClock();
    const t = new LogThrottle({}, clock);
    t.warn('x', 'p', 'nowhere');
    t.debug('x', 'p', 'nowhere');
    expect(clock.pending).to.equal(0);
  });
});
