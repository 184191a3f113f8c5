const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A random token of `n` alphanumeric characters (inbox names), from Web
 * Crypto (global in Node 20 and in browsers).
 */
export function randomToken(n: number): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(n));
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[bytes[i]! % ALPHABET.length];
  return s;
}
