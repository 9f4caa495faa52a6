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
    const cgPath = line.slice(b + 1);
    if (cgPath.length >= PATH_MAX / 3 && utf8Length(cgPath) >= PATH_MAX) throw new ParseError(path, `cgroup path longer than PATH_MAX (${PATH_MAX} bytes)`, i + 1, `${line.slice(0, b + 1)}${cgPath.slice(0, 64)}…`);
    return { hierarchyId: id, controllers: ctl === '' ? [] : ctl.split(','), path: cgPath };
  });
}

/**
 * The kernel prints a cgroup path into a PATH_MAX buffer (proc_cgroup_show, cgroup_path_ns:
 * ENAMETOOLONG past it), so no line holds 4096 bytes of path or more; a dump's may, and a path
 * thousands of levels deep would make a tree thousands deep: a parse error of the file.
 */
export const PATH_MAX = 4096;

/** bytes of `s` in UTF-8, a lone surrogate U+DC80–U+DCFF (decodeBytes: one raw byte) counting 1 */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else if (c >= 0xdc80 && c <= 0xdcff) n += 1;
    else n += 3;
  }
  return n;
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
