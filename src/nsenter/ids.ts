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

/** PID_MAX_LIMIT (include/linux/threads.h): no pid is above 2^22 on any kernel. */
export const MAX_PID = 4194304;

/**
 * -t/--target, parsed strictly: digits only, 1 … 2^22. util-linux's strtoul_or_err gives
 * `failed to parse pid: 'X': Numerical result out of range` above ULONG_MAX (and 2.38 truncates a
 * value between 2^32 and 2^64 into an int pid); `Number()` rounded 23 digits to `1e+23` and
 * opened `/proc/1e+23/ns/uts`. Every pid above the kernel's limit is refused the same way.
 */
export function parsePidArg(value: string): number {
  if (!/^[0-9]+$/.test(value) || /^0+$/.test(value)) throw new IdParseError(`failed to parse pid: '${value}'`);
  if (BigInt(value) > BigInt(MAX_PID)) throw new IdParseError(`failed to parse pid: '${value}': ${strerror('ERANGE')}`);
  return Number(value);
}
