/**
 * docs/operations.md documents every option of `serve` with the flag, the
 * variable, the config key and the default the code has. This keeps it so.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SERVE_OPTIONS } from '../../src/cli/config.js';
import { Defaults } from '../../src/protocol/constants.js';

const doc = readFileSync(new URL('../../../docs/operations.md', import.meta.url), 'utf8');

/** The options table: config key (`maxPayload`, or `tls.cert` for a key inside a section) → its row's cells. */
function optionRows(): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of doc.split('\n')) {
    if (!line.startsWith('| `--')) continue;
    const cells = line.split(' | ').map((c) => c.replace(/^\| |\|$/g, '').trim());
    const key = /^`([\w.]+)`$/.exec(cells[2]!)?.[1];
    if (key !== undefined) rows.set(key, cells);
  }
  return rows;
}

describe('docs/operations.md', () => {
  const rows = optionRows();

  it('has a row per option with its flag and variable', () => {
    for (const spec of SERVE_OPTIONS) {
      const row = rows.get(spec.configKey);
      assert.ok(row, `no row for ${spec.configKey}`);
      const flag = row[0]!;
      assert.ok(spec.arg === '' ? flag === `\`${spec.flag}\`` : flag.startsWith(`\`${spec.flag} `), `${spec.key}: flag ${flag}`);
      assert.equal(row[1], `\`${spec.env}\``, `${spec.key}: variable`);
    }
  });

  it('states the defaults of protocol/constants.ts', () => {
    for (const [key, value] of Object.entries(Defaults)) {
      const cell = rows.get(key)?.[3];
      assert.ok(cell, `no default for ${key}`);
      assert.ok(new RegExp(`(^|[^\\d])${String(value).replace(/\./g, '\\.')}([^\\d]|$)`).test(cell), `${key}: "${cell}" does not state ${value}`);
    }
  });
});
