import type { ProcSource } from '../source/source.js';
import { NS_IOCTL } from '../source/kernel.js';

export interface NsRelations {
  /** inode of the parent namespace (pid and user namespaces nest); 0 when none, as lsns prints */
  parent: number;
  /** inode of the user namespace that owns it; 0 for the initial user namespace */
  owner: number;
}

/**
 * lsns's PNS and ONS: NS_GET_PARENT and NS_GET_USERNS on a namespace file (/proc/<pid>/ns/<type>
 * or a bind mount of one), through the source's live-only calls. Needs the live kernel and the
 * native addon; undefined otherwise (a dump has no namespaces to ask).
 */
export async function nsRelationsReader(src: ProcSource): Promise<((path: string) => NsRelations | undefined) | undefined> {
  if (!src.isLive) return undefined;
  const native = await import('../native/index.js');
  if (native.nativeUnavailableReason()) return undefined;
  const k = src.kernel;
  const prefix = src.procRoot.endsWith('/') ? src.procRoot : `${src.procRoot}/`;
  const inodeVia = (fd: number, op: 1 | 2): number => {
    try {
      const other = k.nsIoctl(fd, op);
      try {
        return k.nsIdentity(other).ino;
      } finally {
        k.closeFd(other);
      }
    } catch {
      return 0; // EPERM: outside our view (the initial namespace); EINVAL: the type does not nest
    }
  };
  return (path) => {
    let fd: number;
    try {
      // a pid's ns file through the proc root; a bind mount (ip netns) where it is mounted
      fd = path.startsWith(prefix) ? k.openProcFd(path.slice(prefix.length)) : k.openPathFd(path);
    } catch {
      return undefined;
    }
    try {
      return { parent: inodeVia(fd, NS_IOCTL.GET_PARENT), owner: inodeVia(fd, NS_IOCTL.GET_USERNS) };
    } finally {
      k.closeFd(fd);
    }
  };
}
