/**
 * Outbound (write coalescing shared by the hub and the client): what a taken
 * chunk holds stays as it was until the caller releases it, and after
 * release() the next bytes reuse the same memory: the current slab from its
 * start, then the spare full slabs, never more than asked for.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Outbound, COPY_LIMIT } from '../../src/protocol/outbound.js';

const LINE = Buffer.from('PUB a.b 100\r\n', 'latin1');

function payload(fill: number, n = 100): Buffer {
  return Buffer.alloc(n, fill);
}

/** The bytes of a message as queued by line(). */
function frame(fill: number, n = 100): string {
  return `${LINE.toString('latin1')}${payload(fill, n).toString('latin1')}\r\n`;
}

function joined(chunks: Buffer[] | null): string {
  return chunks === null ? '' : Buffer.concat(chunks).toString('latin1');
}

/** Queues `count` messages; returns what the chunks taken must hold. */
function queue(out: Outbound, fill: number, count: number): string {
  let s = '';
  for (let i = 0; i < count; i++) {
    out.line(LINE, payload(fill));
    s += frame(fill);
  }
  return s;
}

describe('Outbound slabs', () => {
  it('never rewrites a taken chunk without release()', () => {
    const out = new Outbound(4);
    out.line(LINE, payload(0x61));
    const first = out.take()!;
    const before = joined(first);
    // Enough to fill several slabs: none of it may land on the first chunk's bytes.
    const expected = queue(out, 0x62, 2000);
    assert.equal(joined(first), before);
    assert.equal(before, frame(0x61));
    assert.equal(joined(out.take()), expected);
  });

  it('starts the current slab over after release()', () => {
    const out = new Outbound();
    out.line(LINE, payload(0x61));
    const [a] = out.take()!;
    out.release();
    out.line(LINE, payload(0x62));
    const [b] = out.take()!;
    assert.equal(b!.buffer, a!.buffer);
    assert.equal(b!.byteOffset, a!.byteOffset);
    assert.equal(b!.toString('latin1'), frame(0x62));
  });

  it('does nothing on release() when bytes were queued since the take', () => {
    const out = new Outbound(4);
    out.line(LINE, payload(0x61));
    out.take();
    out.line(LINE, payload(0x62));
    out.release(); // the pending message is still in the slab: it must survive
    out.line(LINE, payload(0x63));
    assert.equal(joined(out.take()), frame(0x62) + frame(0x63));
  });

  it('does nothing on release() when a sealed chunk waits (a large payload queued by reference)', () => {
    const out = new Outbound(4);
    out.line(LINE, payload(0x61));
    out.take();
    out.line(LINE, payload(0x62));
    const big = payload(0x7a, COPY_LIMIT);
    out.line(Buffer.from(`PUB a.b ${COPY_LIMIT}\r\n`, 'latin1'), big);
    out.release();
    out.line(LINE, payload(0x63));
    assert.equal(joined(out.take()), frame(0x62) + `PUB a.b ${COPY_LIMIT}\r\n${big.toString('latin1')}\r\n` + frame(0x63));
  });

  it('fills the spare full slabs again after release(), and keeps no more than asked', () => {
    for (const spare of [0, 2, 4]) {
      const out = new Outbound(spare);
      // Grow to full-size slabs first, then a burst over several of them.
      queue(out, 0x61, 2000);
      out.take();
      out.release();
      const burst = queue(out, 0x62, 3000);
      const taken = out.take()!;
      assert.equal(joined(taken), burst);
      const used = new Set(taken.map((c) => c.buffer));
      out.release();
      const again = queue(out, 0x63, 3000);
      const retaken = out.take()!;
      assert.equal(joined(retaken), again);
      const reused = new Set(retaken.map((c) => c.buffer).filter((b) => used.has(b)));
      // The current slab, plus the spares.
      assert.equal(reused.size, Math.min(used.size, 1 + spare), `spareSlabs ${spare}`);
    }
  });
});
