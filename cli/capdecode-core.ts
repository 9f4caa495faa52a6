import { formatCapshDecode, parseCapMask } from '../src/parse/capabilities.js';

/**
 * The plain form `capdecode HEX [HEX…]`, kept free of the option table so it starts as fast as `node -e 0`
 * allows. Returns undefined when argv is not of that form (then the full CLI handles it).
 */
export function fastDecode(argv: string[]): { out: string; err: string; code: number } | undefined {
  if (argv.length === 0 || argv.some((a) => a.startsWith('-') && !/^-?0[xX]?[0-9a-fA-F]*$/.test(a))) return undefined;
  if (argv.some((a) => a.startsWith('-'))) return undefined;
  let out = '';
  for (const a of argv) {
    const mask = parseCapMask(a);
    if (mask === undefined) return undefined; // the full CLI says what is wrong, escaped
    out += `${formatCapshDecode(mask)}\n`;
  }
  return { out, err: '', code: 0 };
}
