/**
 * ajv-kit.ts for the browser bundle (scripts/browser-bundle.mjs puts this
 * file in its place): the same kit from static imports, bundled into the
 * validator's lazy chunk.
 */
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { AjvKit, FormatsPlugin } from './ajv-kit.js';

const kit: AjvKit = {
  Ajv,
  Ajv2020,
  addFormats: (addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? (addFormatsModule as unknown as FormatsPlugin),
};

export function ajvKit(): AjvKit {
  return kit;
}
