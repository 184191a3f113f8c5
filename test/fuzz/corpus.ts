/**
 * Fuzz seeds: valid client streams, and the malformed cases of the protocol
 * reference (wrong sizes, bad trailers, over-long lines, huge declared sizes
 * before CONNECT, headers without negotiation, bad JSON), plus a PRNG and
 * mutations. Deterministic for a given seed, so any failure replays.
 */

export const CONNECT = 'CONNECT {"verbose":false,"pedantic":false,"protocol":1,"headers":true,"no_responders":true}\r\n';

export const SEEDS: readonly string[] = [
  CONNECT + 'SUB foo 1\r\nPUB foo 5\r\nhello\r\nPING\r\n',
  CONNECT + 'SUB foo.* q 1\r\nSUB foo.> 2\r\nPUB foo.bar _INBOX.x 3\r\nabc\r\nUNSUB 1\r\nUNSUB 2 5\r\n',
  CONNECT + 'HPUB demo.a 23 28\r\nNATS/1.0\r\nX-Test: 1\r\n\r\nhello\r\nHPUB orders.new _INBOX.y 0 2\r\no2\r\n',
  CONNECT + 'SUB _INBOX.x.* 1\r\nPUB nobody _INBOX.x.1 0\r\n\r\nPING\r\n',
  'SUB x 1\r\nPUB x 1\r\na\r\nPING\r\n',
  'sub\tfoo  1\r\npub foo 2\r\nhi\r\nping\r\npong\r\n',
  'CONNECT {"verbose":true,"pedantic":true}\r\nPUB foo.* 1\r\nx\r\nSUB foo..bar 1\r\n',
  CONNECT + 'PUB foo 3\r\nabcdef\r\n',
  CONNECT + 'PUB foo 1048577\r\n',
  'PUB foo 999999999\r\n',
  'HPUB foo 12 8193\r\n',
  CONNECT + 'PUB ' + 'a'.repeat(4200) + ' 1\r\nx\r\n',
  CONNECT + 'FOO bar\r\n',
  'CONNECT {"protocol":2}\r\n',
  'CONNECT {"headers":false,"no_responders":true}\r\n',
  'CONNECT {"headers":false}\r\nHPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n',
  'CONNECT {bad json\r\n',
  CONNECT + 'HPUB foo 10 5\r\n',
  CONNECT + 'UNSUB 1 x\r\nUNSUB\r\n',
  CONNECT + 'SUB a 1\r\nSUB a 1\r\nSUB b q 2\r\nPUB a 0\r\n\r\n',
  CONNECT + 'PUB bin 6\r\n\x00\xff\r\n\r\n\r\n',
  "INFO {}\r\n+OK\r\n-ERR 'x'\r\n",
];

/** mulberry32: small, fast, seedable. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }
}

const TOKENS = ['PUB', 'HPUB', 'SUB', 'UNSUB', 'PING', 'PONG', 'CONNECT', 'INFO', ' ', '\t', '\r\n', '\r', '\n', '0', '1', '-1', '99999', '1048576', '{}', '*', '>', '.', 'NATS/1.0\r\n\r\n'];

/** Applies 1–4 random mutations to a seed. */
export function mutate(rng: Rng, seed: Buffer): Buffer {
  let b = Buffer.from(seed);
  const n = 1 + rng.int(4);
  for (let k = 0; k < n; k++) {
    const at = b.length === 0 ? 0 : rng.int(b.length);
    switch (rng.int(7)) {
      case 0: // flip a bit
        if (b.length > 0) b[at] = b[at]! ^ (1 << rng.int(8));
        break;
      case 1: // random byte
        if (b.length > 0) b[at] = rng.int(256);
        break;
      case 2: {
        // delete a range
        const len = rng.int(16);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + len)]);
        break;
      }
      case 3: {
        // insert a protocol token
        const t = Buffer.from(rng.pick(TOKENS), 'latin1');
        b = Buffer.concat([b.subarray(0, at), t, b.subarray(at)]);
        break;
      }
      case 4: {
        // duplicate a range
        const len = rng.int(64);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
        break;
      }
      case 5: {
        // change a number
        const s = b.toString('latin1').replace(/\d+/, () => String(rng.pick([0, 1, 2, 4095, 4096, 4097, 1048576, 1048577, rng.int(1e9)])));
        b = Buffer.from(s, 'latin1');
        break;
      }
      default: {
        // splice with another seed
        const other = Buffer.from(rng.pick(SEEDS), 'latin1');
        b = Buffer.concat([b.subarray(0, at), other.subarray(rng.int(other.length))]);
      }
    }
  }
  return b;
}

/** Cuts a buffer into random chunks (as TCP may deliver it). */
export function split(rng: Rng, b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < b.length) {
    const len = 1 + rng.int(rng.next() < 0.3 ? 4 : 256);
    out.push(b.subarray(i, i + len));
    i += len;
  }
  return out;
}

export function input(rng: Rng): Buffer {
  const r = rng.next();
  if (r < 0.1) {
    // Pure noise.
    const b = Buffer.allocUnsafe(rng.int(512));
    for (let i = 0; i < b.length; i++) b[i] = rng.int(256);
    return b;
  }
  const seed = Buffer.from(rng.pick(SEEDS), 'latin1');
  return r < 0.2 ? seed : mutate(rng, seed);
}
