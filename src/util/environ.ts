/**
 * This process's environment as `KEY=VALUE` entries for a program it starts, byte for byte. Node
 * decodes the environment as UTF-8 and turns each byte that is not UTF-8 into U+FFFD, so a value
 * such as `X=$'v\xff'` would reach the program as `v` EF BF BD (util-linux nsenter and runc pass
 * the bytes). An entry holding U+FFFD is taken from /proc/self/environ instead (the environment as
 * exec gave it), decoded as every name from the kernel is (decodeBytes: such a byte as the lone
 * surrogate U+DC80+byte, which the native runner hands on as the byte) — only where that entry
 * decodes, as Node decoded it, to exactly the entry of `env` (an entry this process changed since,
 * or a real U+FFFD, stays as it is).
 */
import { openSource } from '../source/source.js';
import { encodeBytes } from '../parse/text.js';

export function environEntries(env: NodeJS.ProcessEnv = process.env, read: () => string = () => openSource().readProcTextBytes('self/environ')): string[] {
  const entries: string[] = [];
  for (const [k, v] of Object.entries(env)) if (v !== undefined) entries.push(`${k}=${v}`);
  if (!entries.some((e) => e.includes('\uFFFD'))) return entries;
  /** the initial environment's entries by what Node made of them */
  const raw = new Map<string, string>();
  try {
    for (const e of read().split('\0')) if (e !== '') raw.set(encodeBytes(e).toString('utf8'), e);
  } catch {
    return entries;
  }
  return entries.map((e) => (e.includes('\uFFFD') ? (raw.get(e) ?? e) : e));
}
