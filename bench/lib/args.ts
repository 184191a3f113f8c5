/**
 * Command lines of the bench scripts: `--help` prints the script's usage and
 * exits 0; a misuse (an unknown option, a missing or bad value) prints one
 * line naming the script and exits 2, never a stack trace. With
 * BENCH_CHECK_ARGS=1 in the environment a script checks its command line the
 * same way, prints `<script>: arguments ok` and exits 0 without benchmarking:
 * the docs test (test/docs) runs every documented bench command like that.
 */

/** An option value that must be a positive number (`1_000_000` and `1,000,000` are read too); `dflt` when absent. */
export function positiveNumber(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v.replaceAll('_', '').replaceAll(',', ''));
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} needs a positive number, got ${JSON.stringify(v)}`);
  return n;
}

/** The same for a count: a positive whole number. */
export function positiveInt(v: string | undefined, name: string, dflt: number): number {
  const n = positiveNumber(v, name, dflt);
  if (!Number.isSafeInteger(n)) throw new Error(`--${name} needs a positive whole number, got ${JSON.stringify(v)}`);
  return n;
}

/**
 * Runs `parse` (parseArgs and the checks of its values), which returns null
 * when `--help` was given: then prints `usage` and exits 0. When it throws,
 * prints its error on one line and exits 2.
 */
export function parseCommandLine<T>(script: string, usage: string, parse: () => T | null): T {
  let parsed: T | null;
  try {
    parsed = parse();
  } catch (err) {
    process.stderr.write(`${script}: ${err instanceof Error ? err.message : String(err)} (--help lists the options)\n`);
    process.exit(2);
  }
  if (parsed === null) {
    process.stdout.write(usage);
    process.exit(0);
  }
  if (process.env.BENCH_CHECK_ARGS === '1') {
    process.stdout.write(`${script}: arguments ok\n`);
    process.exit(0);
  }
  return parsed;
}
