/**
 * A coarse clock for per-read bookkeeping (a connection's last activity):
 * one Date.now() every tick instead of one per read, which W1 would feel.
 * It ticks only while started (while monitoring is on) and never keeps the
 * process alive.
 */
export const CLOCK_TICK_MS = 100;

export class CoarseClock {
  /** Milliseconds since the epoch, at most one tick old while running. */
  now = Date.now();
  private timer: NodeJS.Timeout | null = null;

  start(): void {
    this.now = Date.now();
    this.timer ??= setInterval(tick, CLOCK_TICK_MS, this).unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

function tick(clock: CoarseClock): void {
  clock.now = Date.now();
}
