/**
 * bcrypt compares run in worker threads, never on the event loop (see
 * bcrypt-pool.ts for the stall this removed).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hashSync } from 'bcryptjs';
import { BcryptPool } from '../../../src/server/security/bcrypt-pool.js';

const HASH = hashSync('s3cret', 6);

describe('BcryptPool', () => {
  it('answers right and wrong passwords, several at once, from at most `size` workers', async () => {
    const pool = new BcryptPool(2);
    try {
      const answers = await Promise.all([pool.compare('s3cret', HASH), pool.compare('nope', HASH)]);
      assert.deepEqual(answers, [true, false]);
      // More than `size` at once: the pool has no free worker for the third (BcryptGate never asks it to).
      const three = await Promise.all([pool.compare('s3cret', HASH), pool.compare('s3cret', HASH), pool.compare('s3cret', HASH)]);
      assert.deepEqual(three, [true, true, false]);
    } finally {
      pool.close();
    }
  });

  it('the event loop keeps turning while a compare runs', async () => {
    const slow = hashSync('x', 12); // ~250 ms of CPU or more
    const pool = new BcryptPool(1);
    try {
      let turns = 0;
      let done = false;
      const compare = pool.compare('x', slow).then((ok) => {
        done = true;
        return ok;
      });
      // Counted in turns of the loop, not in time: on the event loop, the compare would allow none until it ends.
      const spin = (): void => {
        if (done) return;
        turns++;
        setImmediate(spin);
      };
      spin();
      assert.equal(await compare, true);
      assert.ok(turns > 10, `the loop turned ${turns} times during the compare`);
    } finally {
      pool.close();
    }
  });

  it('a hash bcryptjs cannot read is a refusal; close() refuses what is under way and what comes after', async () => {
    const pool = new BcryptPool(1);
    assert.equal(await pool.compare('x', '$2b$10$not-a-real-hash'), false);
    const pending = pool.compare('x', hashSync('x', 12));
    pool.close();
    assert.equal(await pending, false);
    assert.equal(await pool.compare('s3cret', HASH), false);
  });
});
