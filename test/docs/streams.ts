/**
 * The streams the docs create, read from their blocks (js and ts fragments
 * alike, and `netemitter stream add`), and the request subjects they use:
 * a reader who follows every doc on one server must not meet a stream that
 * captures a request subject (the stream would answer the request with its
 * PubAck) nor two streams that clash (10058 name in use, 10065 overlap).
 */
import { subjectsCollide } from '../../src/protocol/subject.js';
import { label, type Block } from './blocks.js';
import { commandLines, splitComment } from './shell.js';

export interface Found {
  what: string;
  where: string;
}

export interface StreamDef extends Found {
  name: string;
  subjects: string[];
}

function strings(list: string): string[] {
  return [...list.matchAll(/'([^']*)'|"([^"]*)"/g)].map((m) => (m[1] ?? m[2])!);
}

/** `a b 'c d'` → words, quotes removed (enough for the docs' stream commands). */
function words(code: string): string[] {
  return [...code.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => (m[1] ?? m[2] ?? m[3])!);
}

export function findStreams(blocks: Block[]): { streams: StreamDef[]; requests: Found[] } {
  const streams: StreamDef[] = [];
  const requests: Found[] = [];
  for (const b of blocks) {
    const where = label(b);
    if (b.lang === 'js' || b.lang === 'ts' || b.lang === 'html') {
      for (const m of b.text.matchAll(/streams\.(?:add|update)\(\s*\{\s*name:\s*'([^']+)',\s*subjects:\s*\[([^\]]*)\]/g)) {
        streams.push({ name: m[1]!, subjects: strings(m[2]!), what: m[0], where });
      }
      for (const m of b.text.matchAll(/\.(?:request|handle)\(\s*'([^']+)'/g)) requests.push({ what: m[1]!, where });
    }
    if (b.lang === 'sh' || b.lang === 'console') {
      const text = b.lang === 'console' ? b.text.split('\n').filter((l) => l.startsWith('$ ')).map((l) => l.slice(2)).join('\n') : b.text;
      for (const cl of commandLines(text, b.line)) {
        for (const c of cl.commands) {
          const w = words(splitComment(c.text).code);
          const at = w.indexOf('netemitter');
          if (at === -1) continue;
          const [cmd, a, bb] = w.slice(at + 1);
          if (cmd === 'req' || cmd === 'reply') requests.push({ what: a!, where });
          // An edit without --subjects keeps the stream's subjects: nothing new to check.
          if (cmd === 'stream' && (a === 'add' || (a === 'edit' && w.includes('--subjects'))) && bb !== undefined) {
            const s = w.indexOf('--subjects');
            streams.push({ name: bb, subjects: s === -1 ? [bb] : w[s + 1]!.split(','), what: c.text, where });
          }
        }
      }
    }
  }
  const seen = new Set<string>();
  return { streams, requests: requests.filter((r) => !seen.has(`${r.what} ${r.where}`) && seen.add(`${r.what} ${r.where}`) !== undefined) };
}

/** Everything wrong with what findStreams found, one line each. */
export function clashes(streams: StreamDef[], requests: Found[]): string[] {
  const out: string[] = [];
  for (const s of streams) {
    for (const r of requests) {
      for (const subj of s.subjects) {
        if (subjectsCollide(subj, r.what)) out.push(`${s.where}: stream ${s.name} stores ${subj}, which captures the request subject ${r.what} of ${r.where}`);
      }
    }
  }
  for (let i = 0; i < streams.length; i++) {
    for (let j = i + 1; j < streams.length; j++) {
      const a = streams[i]!;
      const b = streams[j]!;
      if (a.name === b.name) {
        if (JSON.stringify([...a.subjects].sort()) !== JSON.stringify([...b.subjects].sort())) out.push(`${b.where}: stream ${b.name} again, with other subjects than at ${a.where} (10058 on one server)`);
        continue;
      }
      for (const x of a.subjects) for (const y of b.subjects) if (subjectsCollide(x, y)) out.push(`${b.where}: stream ${b.name} on ${y} overlaps ${a.name} on ${x} of ${a.where} (10065 on one server)`);
    }
  }
  return out;
}
