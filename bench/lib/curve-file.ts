/**
 * Reading a CurveFile (bench/lib/curves.ts) back from disk for the charts:
 * every field the charts use is checked, so a file that is not one (or an
 * older shape) gets one line naming the file and the field, not a stack
 * trace from deep inside the renderer. JSON has no NaN: a median of a point
 * where no run succeeded comes back as null, and is read as NaN.
 */
import { readFileSync } from 'node:fs';
import type { Curve, CurveFile, CurveMetric, CurvePoint } from './curves.js';

/** Ids become parts of file names: letters, digits, '.', '_' and '-' only. */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Shape {
  constructor(readonly where: string) {}

  fail(what: string): never {
    throw new Error(`not a curve file: ${this.where} ${what}`);
  }

  record(v: unknown): Json {
    if (!isRecord(v)) this.fail('is not an object');
    return v;
  }

  array(v: unknown): unknown[] {
    if (!Array.isArray(v)) this.fail('is not an array');
    return v;
  }

  string(v: unknown): string {
    if (typeof v !== 'string') this.fail('is not a string');
    return v;
  }

  id(v: unknown): string {
    const s = this.string(v);
    if (!SAFE_ID.test(s)) this.fail(`is ${JSON.stringify(s)}: an id must be letters, digits, '.', '_' or '-'`);
    return s;
  }

  number(v: unknown): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail('is not a number');
    return v;
  }

  /** A record of figures by metric id; null (JSON's NaN) is read as NaN. */
  figures(v: unknown): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, f] of Object.entries(this.record(v))) {
      if (f === null) out[k] = NaN;
      else if (typeof f === 'number') out[k] = f;
      else new Shape(`${this.where}.${k}`).fail('is not a number');
    }
    return out;
  }
}

function metricOf(v: unknown, where: string): CurveMetric {
  const s = new Shape(where);
  const m = s.record(v);
  const better = m.better === 'higher' || m.better === 'lower' ? m.better : new Shape(`${where}.better`).fail(`is ${JSON.stringify(m.better)}, not "higher" or "lower"`);
  return {
    id: new Shape(`${where}.id`).id(m.id),
    label: new Shape(`${where}.label`).string(m.label),
    unit: new Shape(`${where}.unit`).string(m.unit),
    better,
  };
}

function pointOf(v: unknown, where: string): CurvePoint {
  const p = new Shape(where).record(v);
  const runs = new Shape(`${where}.runs`).array(p.runs ?? []).map((r, i) => new Shape(`${where}.runs[${i}]`).figures(r));
  const skipped = p.skipped === undefined ? undefined : new Shape(`${where}.skipped`).string(p.skipped);
  const errors = p.errors === undefined ? undefined : new Shape(`${where}.errors`).array(p.errors).map((e, i) => new Shape(`${where}.errors[${i}]`).string(e));
  return {
    x: new Shape(`${where}.x`).number(p.x),
    peer: new Shape(`${where}.peer`).string(p.peer),
    runs,
    median: new Shape(`${where}.median`).figures(p.median),
    spread: new Shape(`${where}.spread`).figures(p.spread ?? {}),
    ...(skipped !== undefined ? { skipped } : {}),
    ...(errors !== undefined ? { errors } : {}),
  };
}

function curveOf(v: unknown, where: string): Curve {
  const c = new Shape(where).record(v);
  const xLog = typeof c.xLog === 'boolean' ? c.xLog : new Shape(`${where}.xLog`).fail('is not true or false');
  const baseline = c.baseline === undefined ? undefined : new Shape(`${where}.baseline`).string(c.baseline);
  const metrics = new Shape(`${where}.metrics`).array(c.metrics).map((m, i) => metricOf(m, `${where}.metrics[${i}]`));
  const ids = new Set<string>();
  for (const m of metrics) {
    if (ids.has(m.id)) new Shape(`${where}.metrics`).fail(`name ${m.id} twice`);
    ids.add(m.id);
  }
  return {
    id: new Shape(`${where}.id`).id(c.id),
    title: new Shape(`${where}.title`).string(c.title),
    xLabel: new Shape(`${where}.xLabel`).string(c.xLabel),
    xLog,
    metrics,
    points: new Shape(`${where}.points`).array(c.points).map((p, i) => pointOf(p, `${where}.points[${i}]`)),
    ...(baseline !== undefined ? { baseline } : {}),
  };
}

/** Checks parsed JSON is a CurveFile (the fields the charts read). Throws one line. */
export function toCurveFile(v: unknown): CurveFile {
  const f = new Shape('the file').record(v);
  const curves = new Shape('curves').array(f.curves).map((c, i) => curveOf(c, `curves[${i}]`));
  const ids = new Set<string>();
  for (const c of curves) {
    if (ids.has(c.id)) new Shape('curves').fail(`name ${c.id} twice`);
    ids.add(c.id);
  }
  return {
    kind: new Shape('kind').id(f.kind),
    date: typeof f.date === 'string' ? f.date : '',
    command: typeof f.command === 'string' ? f.command : '',
    node: typeof f.node === 'string' ? f.node : '',
    natsServer: typeof f.natsServer === 'string' ? f.natsServer : '',
    curves,
  };
}

/** Reads and checks a CurveFile; returns it with the file's text (copied beside the charts as is). */
export function readCurveFile(path: string): { file: CurveFile; text: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not JSON (${(err as Error).message})`);
  }
  try {
    return { file: toCurveFile(parsed), text };
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}
