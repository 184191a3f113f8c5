/**
 * The fenced code blocks of a Markdown file: where each starts, its info
 * string (the language, then attributes) and its text, and the doc-test
 * directive written just above it, if any. See test/docs/README.md for what
 * each kind of block means to the docs test.
 */

export interface Directive {
  /** `skip`: not checked, for the reason given. `output`: an output sample of `arg`. */
  kind: 'skip' | 'output';
  arg: string;
}

export interface Block {
  /** The Markdown file, relative to the repository root (`README.md`, `docs/api.md`). */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The first word of the info string (`js`, `sh`), '' when there is none. */
  lang: string;
  /** The other words of the info string (`keeps-running`, `file=hub.json`). */
  attrs: string[];
  /** The block's lines without the fence's indentation, each ending with a newline. */
  text: string;
  /** `<!-- doc-test: … -->` on the line just above the opening fence. */
  directive: Directive | null;
}

/** `README.md:42 ```js`: how failures name a block. */
export function label(b: Block): string {
  return `${b.file}:${b.line} \`\`\`${b.lang}`;
}

/** The value of attribute `name=value`, or undefined. */
export function attr(b: Block, name: string): string | undefined {
  const a = b.attrs.find((x) => x === name || x.startsWith(`${name}=`));
  if (a === undefined) return undefined;
  return a === name ? '' : a.slice(name.length + 1);
}

const FENCE = /^( *)(`{3,}|~{3,})(.*)$/;
const DIRECTIVE = /^\s*<!--\s*doc-test:\s*(.*?)\s*-->\s*$/;

export function parseDirective(text: string, where: string): Directive {
  const m = /^(skip|output of)(?:\s+(.*))?$/.exec(text);
  if (m === null) throw new Error(`${where}: unknown doc-test directive "${text}" (expected "skip <reason>" or "output of <program or command>")`);
  const arg = (m[2] ?? '').trim();
  if (arg === '') throw new Error(`${where}: doc-test directive "${m[1]}" needs ${m[1] === 'skip' ? 'a reason' : 'a program or command'}`);
  return { kind: m[1] === 'skip' ? 'skip' : 'output', arg };
}

/** Every fenced block of `markdown`; an unterminated fence or a malformed directive throws. */
export function extractBlocks(file: string, markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (open === null) continue;
    const [, indent, fence, info] = open as unknown as [string, string, string, string];
    if (fence[0] === '`' && info.includes('`')) continue; // not a fence (CommonMark)
    const words = info.trim().split(/\s+/).filter((w) => w.length > 0);
    const start = i;
    const body: string[] = [];
    let closed = false;
    for (i++; i < lines.length; i++) {
      const l = lines[i]!;
      const close = /^( *)(`{3,}|~{3,})\s*$/.exec(l);
      if (close !== null && close[2]![0] === fence[0] && close[2]!.length >= fence.length) {
        closed = true;
        break;
      }
      // Content lines lose up to the fence's indentation, as in CommonMark.
      let cut = 0;
      while (cut < indent.length && l[cut] === ' ') cut++;
      body.push(l.slice(cut));
    }
    if (!closed) throw new Error(`${file}:${start + 1}: the code block is never closed`);
    const above = start > 0 ? DIRECTIVE.exec(lines[start - 1]!) : null;
    blocks.push({
      file,
      line: start + 1,
      lang: words[0] ?? '',
      attrs: words.slice(1),
      text: body.map((l) => `${l}\n`).join(''),
      directive: above === null ? null : parseDirective(above[1]!, `${file}:${start}`),
    });
  }
  return blocks;
}
