/** Stream and consumer names become subject tokens: no dots, wildcards or whitespace (ADR-6). */
export function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.length === 0 || /[.*>\s\0/\\]/.test(name)) {
    throw new TypeError(`invalid ${what} name ${JSON.stringify(name)}: expected a non-empty name without '.', '*', '>', '/', '\\' or whitespace`);
  }
  return name;
}
