/**
 * Enough of the shell's grammar to take documented command lines apart: the
 * trailing `# comment`, the simple commands between `&&`, `||`, `;`, `|` and
 * `&`, and each command's words, which the real `sh` computes (quotes,
 * `$(…)`), so that they are exactly what a reader's shell would pass.
 */
import { execFile } from 'node:child_process';

export type Operator = '' | '&&' | '||' | '|' | ';' | '&';

export interface SimpleCommand {
  /** The command as written (`netemitter reply time.now "$(date)"`). */
  text: string;
  /** The operator after it ('' at the end of the line). */
  op: Operator;
}

export interface CommandLine {
  /** 1-based line in the Markdown file. */
  line: number;
  code: string;
  /** The trailing comment without `#`, '' when there is none. */
  comment: string;
  commands: SimpleCommand[];
}

/**
 * Walks `s` as the shell reads it, calling `at(i)` for each character outside
 * quotes and `$(…)`; `at` returns how many characters it consumed (0: just go on).
 */
function scan(s: string, at: (i: number) => number | 'stop'): void {
  let quote: "'" | '"' | null = null;
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      continue;
    }
    if (c === '\\') {
      i++;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '$' && s[i + 1] === '(') {
        depth++;
        i++;
      } else if (c === ')' && depth > 0) depth--;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      continue;
    }
    if (c === '$' && s[i + 1] === '(') {
      depth++;
      i++;
      continue;
    }
    if (depth > 0) {
      if (c === ')') depth--;
      continue;
    }
    const used = at(i);
    if (used === 'stop') return;
    i += Math.max(0, used - 1);
  }
  if (quote !== null || depth > 0) throw new Error(`unterminated ${quote ?? '$('} in: ${s}`);
}

/** Splits off a trailing comment: a `#` that starts a word, outside quotes. */
export function splitComment(line: string): { code: string; comment: string } {
  let cut = -1;
  scan(line, (i) => {
    if (line[i] === '#' && (i === 0 || /\s/.test(line[i - 1]!))) {
      cut = i;
      return 'stop';
    }
    return 0;
  });
  return cut === -1 ? { code: line.trim(), comment: '' } : { code: line.slice(0, cut).trim(), comment: line.slice(cut + 1).trim() };
}

/** The simple commands of a line of code (no comment). */
export function splitCommands(code: string): SimpleCommand[] {
  const out: SimpleCommand[] = [];
  let from = 0;
  scan(code, (i) => {
    const two = code.slice(i, i + 2);
    const op: Operator | null = two === '&&' || two === '||' ? two : code[i] === '|' || code[i] === ';' || code[i] === '&' ? (code[i] as Operator) : null;
    if (op === null) return 0;
    // `2>&1`, `>&2`: a redirection, not an operator.
    if (op === '&' && (code[i - 1] === '>' || code[i - 1] === '<')) return 0;
    out.push({ text: code.slice(from, i).trim(), op });
    from = i + op.length;
    return op.length;
  });
  const last = code.slice(from).trim();
  if (last !== '') out.push({ text: last, op: '' });
  if (out.some((c) => c.text === '')) throw new Error(`an empty command in: ${code}`);
  return out;
}

/** The command lines of a ```sh block: `\` continuations joined, blank and comment-only lines left out. */
export function commandLines(text: string, firstLine: number): CommandLine[] {
  const out: CommandLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let l = lines[i]!;
    while (l.endsWith('\\') && i + 1 < lines.length) l = `${l.slice(0, -1)} ${lines[++i]!}`;
    const { code, comment } = splitComment(l);
    if (code === '') continue;
    out.push({ line: firstLine + 1 + start, code, comment, commands: splitCommands(code) });
  }
  return out;
}

/**
 * The words `sh` makes of `command` (quotes removed, `$(…)` and `$VAR`
 * expanded), run in `cwd`.
 */
export function shellWords(command: string, cwd: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile('sh', ['-c', 'eval "set -- $1"; for a do printf "%s\\0" "$a"; done', 'sh', command], { cwd, timeout: 5000 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`sh could not read the words of ${JSON.stringify(command)}: ${stderr || err.message}`));
      else resolve(stdout.split('\0').slice(0, -1));
    });
  });
}

/** Leading `NAME=value` words: the command's environment. */
export function splitAssignments(words: string[]): { env: Record<string, string>; argv: string[] } {
  const env: Record<string, string> = {};
  let i = 0;
  for (; i < words.length; i++) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(words[i]!);
    if (m === null) break;
    env[m[1]!] = m[2]!;
  }
  return { env, argv: words.slice(i) };
}
