import { splitNul } from './text.js';

export interface EnvEntry {
  key: string;
  /** undefined for an entry with no `=` */
  value: string | undefined;
}

/**
 * /proc/<pid>/environ, see proc_pid_environ(5): NUL-separated `KEY=value`; the last entry may
 * lack its NUL, entries may lack `=`, keys may repeat (all kept, in order).
 */
export function parseEnviron(buf: Buffer): EnvEntry[] {
  return splitNul(buf)
    .filter((e) => e !== '')
    .map((e) => {
      const eq = e.indexOf('=');
      return eq < 0 ? { key: e, value: undefined } : { key: e.slice(0, eq), value: e.slice(eq + 1) };
    });
}

/**
 * /proc/<pid>/cmdline: NUL-separated argv. Empty arguments in the middle are kept; a process
 * that rewrote its argv into one space-joined string gives one element.
 */
export function parseCmdline(buf: Buffer): string[] {
  const args = splitNul(buf);
  return args;
}

/** /proc/<pid>/comm: the name and a newline. */
export function parseComm(buf: Buffer): string {
  const s = buf.toString('utf8');
  return s.endsWith('\n') ? s.slice(0, -1) : s;
}
