/**
 * Query parameters of the monitoring endpoints, read as nats-server reads
 * them: Go's strconv rules, and its error texts, so a tool that gets a 400
 * from nats-server gets the same one here.
 */

/** A bad query: answered with HTTP 400 and this text. */
export class MonitorQueryError extends Error {
  override readonly name = 'MonitorQueryError';
  readonly status = 400;
}

/** Go's strconv.ParseBool spellings. */
const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

export function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null || v === '') return false;
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new MonitorQueryError(`Error decoding boolean for '${name}': strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
}

/** Go's strconv.Atoi on a 64-bit platform; absent or empty gives `fallback`. */
export function intParam(q: URLSearchParams, name: string, fallback: number): number {
  const v = q.get(name);
  if (v === null || v === '') return fallback;
  if (!/^[+-]?\d+$/.test(v)) throw new MonitorQueryError(`Error decoding int for '${name}': strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new MonitorQueryError(`Error decoding int for '${name}': strconv.Atoi: parsing ${JSON.stringify(v)}: value out of range`);
  return n;
}

/** Go's strconv.ParseUint(v, 10, 64); absent or empty gives 0. */
export function uintParam(q: URLSearchParams, name: string): number {
  const v = q.get(name);
  if (v === null || v === '') return 0;
  if (!/^\d+$/.test(v)) throw new MonitorQueryError(`Error decoding uint64 for '${name}': strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`);
  const n = Number(v);
  // Past 2^53 no connection id can match; the answer is an empty list, as for any unknown id.
  return Number.isSafeInteger(n) ? n : Number.MAX_SAFE_INTEGER;
}

/** nats-server's paging: a limit of 0 or less is the default, an offset below 0 is 0. */
export function paging(q: URLSearchParams, defaultLimit: number): { offset: number; limit: number } {
  let offset = intParam(q, 'offset', 0);
  let limit = intParam(q, 'limit', defaultLimit);
  if (offset < 0) offset = 0;
  if (limit <= 0) limit = defaultLimit;
  return { offset, limit };
}

export const DEFAULT_LIMIT = 1024;
