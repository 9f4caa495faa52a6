import { ParseError } from './errors.js';
import { safeInteger } from './numbers.js';

/** The eight namespace types, in lsns's order of appearance in /proc/<pid>/ns. */
export const NS_TYPES = ['mnt', 'net', 'time', 'cgroup', 'pid', 'user', 'uts', 'ipc'] as const;
export type NsType = (typeof NS_TYPES)[number];

/** The ten entries of /proc/<pid>/ns: the types plus the two *_for_children links. */
export const NS_ENTRIES = [...NS_TYPES, 'pid_for_children', 'time_for_children'] as const;
export type NsEntry = (typeof NS_ENTRIES)[number];

/** clone(2) flag of each type, as setns(2) and unshare(2) want it. */
export const NS_CLONE_FLAG: Record<NsType, number> = {
  mnt: 0x00020000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  net: 0x40000000,
  cgroup: 0x02000000,
  time: 0x00000080,
};

export function isNsType(s: string): s is NsType {
  return (NS_TYPES as readonly string[]).includes(s);
}

export interface NsLink {
  type: NsType;
  inode: number;
}

/** Text of a /proc/<pid>/ns/<entry> symlink, see namespaces(7): `net:[4026531840]`. */
export function parseNsLink(text: string, path = 'ns'): NsLink {
  // `type:[digits]`, parsed by hand: this runs eight times for every process
  const colon = text.indexOf(':[');
  const type = colon > 0 ? text.slice(0, colon) : '';
  const digits = text.slice(colon + 2, -1);
  // inode numbers are 32-bit today (proc_inum); 64-bit ns ids must still be exact, never 1e+26
  const inode = /^[1-9][0-9]*$/.test(digits) ? safeInteger(digits) : undefined;
  if (colon <= 0 || !text.endsWith(']') || !isNsType(type) || inode === undefined) {
    throw new ParseError(path, `not a namespace link: ${JSON.stringify(text.slice(0, 80))}`);
  }
  return { type, inode };
}

/** The type an entry names: `pid_for_children` → pid. */
export function entryType(entry: NsEntry): NsType {
  return entry === 'pid_for_children' ? 'pid' : entry === 'time_for_children' ? 'time' : entry;
}

/**
 * Inode numbers the kernel gives its initial namespaces (include/linux/proc_ns.h). mnt and net
 * have none: they are allocated at boot.
 */
export const INIT_NS_INODE: Partial<Record<NsType, number>> = {
  ipc: 0xefffffff, // 4026531839
  uts: 0xeffffffe, // 4026531838
  user: 0xeffffffd, // 4026531837
  pid: 0xeffffffc, // 4026531836
  cgroup: 0xeffffffb, // 4026531835
  time: 0xeffffffa, // 4026531834
};
