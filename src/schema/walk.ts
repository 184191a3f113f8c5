/**
 * A walk over every key of a JSON document, iterative so that a deeply
 * nested schema file costs no stack. `visit` returns whether to walk into
 * the key's value (false: its value is data, e.g. under `const`).
 */
export function forEachKey(doc: unknown, visit: (key: string, value: unknown) => boolean): void {
  const stack: unknown[] = [doc];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
      continue;
    }
    for (const [k, x] of Object.entries(v)) if (visit(k, x)) stack.push(x);
  }
}
