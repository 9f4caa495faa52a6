import { closeSync, fstatSync, openSync } from 'node:fs';
import type { ProcSource } from '../source/source.js';

export interface NsRelations {
  /** inode of the parent namespace (pid and user namespaces nest); 0 when none, as lsns prints */
  parent: number;
  /** inode of the user namespace that owns it; 0 for the initial user namespace */
  owner: number;
}

/**
 * lsns's PNS and ONS: NS_GET_PARENT and NS_GET_USERNS on a namespace file (/proc/<pid>/ns/<type>
 * or a bind mount of one). Needs the live
 * kernel and the native addon; undefined otherwise (a dump has no namespaces to ask).
 */
export async function nsRelationsReader(src: ProcSource): Promise<((path: string) => NsRelations | undefined) | undefined> {
  if (!src.isLive) return undefined;
  const native = await import('../native/index.js');
  if (native.nativeUnavailableReason()) return undefined;
  const inodeVia = (fd: number, op: 1 | 2): number => {
    try {
      const other = native.nsIoctl(fd, op);
      try {
        return fstatSync(other).ino;
      } finally {
        closeSync(other);
      }
    } catch {
      return 0; // EPERM: outside our view (the initial namespace); EINVAL: the type does not nest
    }
  };
  return (path) => {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return undefined;
    }
    try {
      return { parent: inodeVia(fd, native.NS_IOCTL.GET_PARENT), owner: inodeVia(fd, native.NS_IOCTL.GET_USERNS) };
    } finally {
      closeSync(fd);
    }
  };
}
