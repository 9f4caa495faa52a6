import { ParseError } from './errors.js';
import { decodeBytes, lines } from './text.js';
import { safeInteger } from './numbers.js';

/** One line of /proc/<pid>/cgroup. */
export interface CgroupMembership {
  /** 0 for the v2 unified hierarchy */
  hierarchyId: number;
  /** `['cpu','cpuacct']`, `['name=systemd']`, or `[]` for v2 */
  controllers: string[];
  /** relative to the reader's cgroup namespace: may start with `/..` */
  path: string;
}

/**
 * /proc/<pid>/cgroup, see cgroups(7): `hierarchy-ID:controller-list:cgroup-path`. Split on the
 * first two `:` only: paths may contain `:` (containerd with the systemd driver).
 */
export function parseProcCgroup(text: string, path = 'cgroup'): CgroupMembership[] {
  return lines(text).map((line, i) => {
    const a = line.indexOf(':');
    const b = a < 0 ? -1 : line.indexOf(':', a + 1);
    if (a < 0 || b < 0) throw new ParseError(path, 'expected id:controllers:path', i + 1, line);
    const id = safeInteger(line.slice(0, a));
    if (id === undefined || id < 0) throw new ParseError(path, 'bad hierarchy id', i + 1, line);
    const ctl = line.slice(a + 1, b);
    return { hierarchyId: id, controllers: ctl === '' ? [] : ctl.split(','), path: line.slice(b + 1) };
  });
}

/**
 * /proc/<pid>/cgroup as its bytes (ProcSource.readProc): decoded with decodeBytes, so a cgroup
 * directory whose name is not UTF-8 keeps each such byte (a lone surrogate U+DC80+byte), is opened
 * by the same bytes (src/source/bounded.ts, fsPath) and is not merged with a sibling that differs
 * only in that byte. Decoded as UTF-8 the byte became U+FFFD: the directory read was missing and
 * the figures of whoever named it so were lost.
 */
export function parseProcCgroupBytes(buf: Buffer, path = 'cgroup'): CgroupMembership[] {
  return parseProcCgroup(decodeBytes(buf), path);
}
