import { exactInteger } from './numbers.js';

/** The largest valid uid/gid: (uid_t)-1 is "no id" to the kernel, so 2^32 − 2. */
const MAX_ID = 0xfffffffe;

/**
 * uid → login name from passwd(5) text (the host's or a dump's /etc/passwd). The first entry for
 * a uid wins, as getpwuid(3) does. A line whose uid is not a plain decimal id in 0 … 2^32−2
 * (`''`, ` 0`, `0x0`, `1e3`, `-1`, `4294967295`) is skipped: `Number()` would read the first four
 * as root's and let a hostile dump rename uid 0.
 */
export function parsePasswd(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || !f[0]) continue;
    const uid = exactInteger(f[2]!);
    if (uid === undefined || uid < 0 || uid > MAX_ID || names.has(uid)) continue;
    names.set(uid, f[0]);
  }
  return names;
}
