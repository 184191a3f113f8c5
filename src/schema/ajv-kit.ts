/**
 * ajv and ajv-formats for the validator, loaded at the first compile: a hub
 * or CLI command without schemas never loads them (ajv was the largest part
 * of `netemitter serve`'s start). The browser bundle uses ajv-kit-browser.ts
 * in this file's place (scripts/browser-bundle.mjs), which imports them
 * statically into the validator's lazy chunk.
 */
import type { Ajv } from 'ajv';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import { lazy } from '../lazy.js';

export type FormatsPlugin = (ajv: Ajv) => Ajv;

export interface AjvKit {
  readonly Ajv: typeof Ajv;
  readonly Ajv2020: typeof Ajv2020;
  readonly addFormats: FormatsPlugin;
}

const ajv = lazy<{ Ajv: typeof Ajv }>('ajv');
const ajv2020 = lazy<{ Ajv2020: typeof Ajv2020 }>('ajv/dist/2020.js');
const formats = lazy<FormatsPlugin | { default: FormatsPlugin }>('ajv-formats');

let kit: AjvKit | null = null;

export function ajvKit(): AjvKit {
  if (kit === null) {
    const f = formats();
    kit = { Ajv: ajv().Ajv, Ajv2020: ajv2020().Ajv2020, addFormats: typeof f === 'function' ? f : f.default };
  }
  return kit;
}
