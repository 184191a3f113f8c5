/**
 * nats-server's units in its monitoring JSON: times as RFC 3339 strings,
 * durations as Go strings ("1m2s", "4.2ms") or, in /varz, nanoseconds.
 */

/** RFC 3339 with the precision we have (milliseconds), as Go's time.Time marshals in UTC. */
export function time(ms: number): string {
  return new Date(ms).toISOString();
}

/** nats-server's uptime form: "0s", "6s", "1m2s", "3h0m4s", "2d1h0m0s" (whole seconds). */
export function uptime(ms: number): string {
  let s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86_400);
  s -= d * 86_400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return `${d}d${h}h${m}m${s}s`;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** Go's time.Duration.String() for a duration in milliseconds (fractions allowed). */
export function goDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 0.001) return `${Math.round(ms * 1e6)}ns`;
  if (ms < 1) return `${trim(ms * 1000)}µs`;
  if (ms < 1000) return `${trim(ms)}ms`;
  return uptimeGo(ms);
}

function trim(n: number): string {
  return String(Number(n.toFixed(6)));
}

function uptimeGo(ms: number): string {
  let s = ms / 1000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const sec = `${trim(s)}s`;
  if (h > 0) return `${h}h${m}m${sec}`;
  if (m > 0) return `${m}m${sec}`;
  return sec;
}

/** Milliseconds as Go nanoseconds (a time.Duration in JSON). */
export function nanos(ms: number): number {
  return ms * 1_000_000;
}
