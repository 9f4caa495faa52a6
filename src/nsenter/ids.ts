/**
 * -S/--setuid and -G/--setgid values, parsed strictly (bug 16 of issue 6). A uid_t is 32 bits and
 * (uid_t)-1 = 4294967295 means "unchanged" to setresuid(2), so the ids a program can be given are
 * 0 … 4294967294. Digits only: no sign, no space, no hex (util-linux's strtoul takes ` 1`, `+5`
 * and `-1`, and 2.38 wraps 4294967296 to uid 0 — we refuse them all before anything runs).
 * Messages are util-linux nsenter's: `failed to parse uid: 'abc'`, and for a number too large
 * `failed to parse uid: '4294967295': Numerical result out of range`.
 */
import { strerror } from '../util/strerror.js';

export const MAX_ID = 0xfffffffe;

export class IdParseError extends Error {}

export function parseId(value: string, which: 'uid' | 'gid'): number {
  if (!/^[0-9]+$/.test(value)) throw new IdParseError(`failed to parse ${which}: '${value}'`);
  // BigInt: a 30-digit id must not round to something in range
  if (BigInt(value) > BigInt(MAX_ID)) throw new IdParseError(`failed to parse ${which}: '${value}': ${strerror('ERANGE')}`);
  return Number(value);
}
