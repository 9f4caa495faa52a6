import { ParseError } from './errors.js';
import { lines, unescapeBytes } from './text.js';
import { safeInteger } from './numbers.js';

export type Propagation =
  | { kind: 'shared'; peerGroup: number }
  | { kind: 'master'; peerGroup: number }
  | { kind: 'propagate_from'; peerGroup: number }
  | { kind: 'unbindable' }
  | { kind: 'other'; text: string };

export interface MountInfo {
  mountId: number;
  parentId: number;
  major: number;
  minor: number;
  /** root of the mount within its filesystem, unescaped */
  root: string;
  /** unescaped */
  mountPoint: string;
  mountOptions: string[];
  propagation: Propagation[];
  fsType: string;
  /** unescaped; may be empty */
  source: string;
  superOptions: string[];
}

/**
 * Undo the kernel's octal escapes (`\040` space, `\011` tab, `\012` newline, `\134` backslash,
 * `\043` #). Each is a byte, decoded with the bytes around it (unescapeBytes): `\377` is the byte
 * 0xff, not `ÿ`.
 */
export function unescapeOctal(s: string): string {
  return s.includes('\\') ? unescapeBytes(s, OCTAL, 8) : s;
}

const OCTAL = /\\([0-7]{3})/g;

function parsePropagation(tag: string): Propagation {
  const [k, v] = tag.split(':');
  if (k === 'unbindable') return { kind: 'unbindable' };
  const peer = v === undefined ? undefined : safeInteger(v);
  if ((k === 'shared' || k === 'master' || k === 'propagate_from') && peer !== undefined && peer >= 0) {
    return { kind: k, peerGroup: peer };
  }
  return { kind: 'other', text: tag };
}

/**
 * /proc/<pid>/mountinfo, see proc_pid_mountinfo(5). Fields are split on single spaces (the
 * source may be empty, leaving two spaces), optional fields run up to the `-` separator, and
 * there is no size cap: busy hosts have mountinfo over 1 MiB.
 */
export function parseMountInfo(text: string, path = 'mountinfo'): MountInfo[] {
  return lines(text).map((line, i) => {
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (f.length < 10 || sep < 0 || f.length < sep + 4) throw new ParseError(path, 'expected 10 or more fields', i + 1, line);
    const dev = /^(\d{1,10}):(\d{1,10})$/.exec(f[2]!);
    if (!dev) throw new ParseError(path, `bad major:minor ${f[2]!.slice(0, 40)}`, i + 1, line);
    const mountId = safeInteger(f[0]!);
    const parentId = safeInteger(f[1]!);
    if (mountId === undefined || parentId === undefined || mountId < 0 || parentId < 0) throw new ParseError(path, 'bad mount id', i + 1, line);
    return {
      mountId,
      parentId,
      major: Number(dev[1]),
      minor: Number(dev[2]),
      root: unescapeOctal(f[3]!),
      mountPoint: unescapeOctal(f[4]!),
      mountOptions: f[5]!.split(','),
      propagation: f.slice(6, sep).map(parsePropagation),
      fsType: f[sep + 1]!,
      source: unescapeOctal(f[sep + 2]!),
      superOptions: f.slice(sep + 3).join(' ').split(','),
    };
  });
}

export function propagationText(p: Propagation[]): string {
  if (p.length === 0) return 'private';
  return p.map((x) => (x.kind === 'other' ? x.text : x.kind === 'unbindable' ? 'unbindable' : `${x.kind}:${x.peerGroup}`)).join(' ');
}
