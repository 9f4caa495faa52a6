/**
 * The live-only half of the door to the kernel: what a running kernel offers beyond reading text —
 * file descriptors (a namespace file to setns() into, a pid's root or cwd, a cgroup.procs to write
 * a pid into), the identity (st_dev, st_ino) of a namespace file, and the nsfs ioctls (NS_GET_PARENT,
 * NS_GET_USERNS). A host dump has none of these: every call on one throws ProcError NOT_SUPPORTED,
 * so the code that needs them says so in one line instead of reading the wrong host.
 *
 * Node opens with O_CLOEXEC, so no fd opened here leaks into a program the step runner execs.
 */
import { closeSync, constants as fsc, fstatSync, openSync, statSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { ProcError, errnoOf } from './errors.js';
import { fsPath } from './bounded.js';
import { strerror } from '../util/strerror.js';
import { NS_IOCTL, NativeError, nativeUnavailableReason, nsIoctl } from '../native/index.js';

export { NS_IOCTL };
export type NsIoctlOp = (typeof NS_IOCTL)[keyof typeof NS_IOCTL];

/** (st_dev, st_ino) of a namespace file or an open nsfs fd */
export interface NsIdentity {
  dev: number;
  ino: number;
}

/** The calls only the live kernel answers (see the file comment). Paths are relative to the roots. */
export interface LiveKernel {
  /** open `<procRoot>/<rel>` (an ns file, a pid's `root` or `cwd`); read-only unless flags say otherwise */
  openProcFd(rel: string, flags?: number): number;
  /** open `<sysRoot>/<rel>` (a cgroup's `cgroup.procs`, write-only to join it) */
  openSysFd(rel: string, flags: number): number;
  /** open a file the user named where we stand (`nsenter -n /run/netns/blue`, `-r DIR`, a bind-mounted ns file) */
  openPathFd(path: string, flags?: number): number;
  /** stat() of `<procRoot>/<rel>`, or fstat() of an fd */
  nsIdentity(relOrFd: string | number): NsIdentity;
  /** the owner of `<procRoot>/<rel>` (nsenter -S follow: the owner of /proc/PID) */
  procOwner(rel: string): { uid: number; gid: number };
  /** NS_GET_USERNS / NS_GET_PARENT on an nsfs fd: a new fd (close it) */
  nsIoctl(fd: number, op: NsIoctlOp): number;
  closeFd(fd: number): void;
  /**
   * What an open fd is, for a file the user named as a namespace file: 'namespace' when it is on
   * nsfs (statfs through /proc/self/fd follows the fd to the file opened: no swap between check
   * and use), else what it is instead ('a FIFO', 'a regular file', …)
   */
  nsFileKind(fd: number): string;
}

/** statfs(2) f_type of nsfs, where every namespace file lives (bind mounts of one included) */
const NSFS_MAGIC = 0x6e736673;

function fail(path: string, verb: string, e: unknown): ProcError {
  const errno = errnoOf(e);
  const code = errno === 'EACCES' || errno === 'EPERM' ? 'PERMISSION_DENIED' : errno === 'ENOENT' || errno === 'ESRCH' ? 'NOT_FOUND' : 'IO';
  return new ProcError(code, path, `${verb} ${path}: ${strerror(errno)}`, errno);
}

export class LiveKernelCalls implements LiveKernel {
  constructor(
    private readonly procRoot: string,
    private readonly sysRoot: string,
  ) {}

  openProcFd(rel: string, flags = fsc.O_RDONLY): number {
    return this.openPathFd(join(this.procRoot, rel), flags);
  }

  openSysFd(rel: string, flags: number): number {
    return this.openPathFd(join(this.sysRoot, rel), flags);
  }

  openPathFd(path: string, flags = fsc.O_RDONLY): number {
    try {
      // by its bytes: a cgroup directory named with a byte that is not UTF-8 (see fsPath)
      return openSync(fsPath(path), flags);
    } catch (e) {
      if (e instanceof ProcError) throw e;
      throw fail(path, 'cannot open', e);
    }
  }

  nsFileKind(fd: number): string {
    if (statfsSync(`/proc/self/fd/${fd}`).type === NSFS_MAGIC) return 'namespace';
    const st = fstatSync(fd);
    return st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : st.isDirectory() ? 'a directory' : 'a regular file';
  }

  nsIdentity(relOrFd: string | number): NsIdentity {
    if (typeof relOrFd === 'number') {
      const st = fstatSync(relOrFd);
      return { dev: st.dev, ino: st.ino };
    }
    const path = join(this.procRoot, relOrFd);
    try {
      const st = statSync(path);
      return { dev: st.dev, ino: st.ino };
    } catch (e) {
      throw fail(path, 'cannot stat', e);
    }
  }

  procOwner(rel: string): { uid: number; gid: number } {
    const path = join(this.procRoot, rel);
    try {
      const st = statSync(path);
      return { uid: st.uid, gid: st.gid };
    } catch (e) {
      throw fail(path, 'cannot stat', e);
    }
  }

  nsIoctl(fd: number, op: NsIoctlOp): number {
    const why = nativeUnavailableReason();
    if (why) throw new ProcError('NOT_SUPPORTED', '', why);
    return nsIoctl(fd, op); // NativeError with the errno: the caller words it (EPERM/EINVAL are answers)
  }

  closeFd(fd: number): void {
    closeSync(fd);
  }
}

/** What a dump answers to every live-only call: NOT_SUPPORTED, naming the call and the dump. */
export class DumpKernelCalls implements LiveKernel {
  constructor(private readonly procRoot: string) {}

  private no(what: string): never {
    throw new ProcError('NOT_SUPPORTED', this.procRoot, `${what} needs the live kernel: ${this.procRoot} is a host dump`);
  }

  openProcFd(rel: string): number {
    return this.no(`opening ${rel}`);
  }
  openSysFd(rel: string): number {
    return this.no(`opening ${rel}`);
  }
  openPathFd(path: string): number {
    return this.no(`opening ${path}`);
  }
  nsIdentity(relOrFd: string | number): NsIdentity {
    return this.no(`stat of ${relOrFd}`);
  }
  nsFileKind(fd: number): string {
    return this.no(`statfs of fd ${fd}`);
  }
  procOwner(rel: string): { uid: number; gid: number } {
    return this.no(`the owner of ${rel}`);
  }
  nsIoctl(): number {
    return this.no('an nsfs ioctl');
  }
  closeFd(): void {
    this.no('close');
  }
}

export { NativeError };
