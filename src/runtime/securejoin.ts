/**
 * Resolve a path inside a root as if the root were `/`: the filepath-securejoin algorithm
 * (SecureJoinVFS) that runc uses for every mount destination, so that no symlink or `..` in a
 * container image can make a mount land outside the rootfs (CVE-2021-30465, CVE-2017-1002101
 * class). Pure over an injected view of the filesystem, so it is tested without root and against
 * a temp dir alike.
 *
 * - each component is looked up with lstat; a symlink is read and its target resolved again
 *   inside the root (an absolute target starts over at the root, a relative one at the link's
 *   directory); `..` never climbs above the root;
 * - a component that does not exist ends the lookup: the rest is appended lexically (it will be
 *   created as directories below a path that was just shown to be inside the root);
 * - more than 255 symlinks is ELOOP, like the kernel's 40 but with filepath-securejoin's budget;
 * - a non-directory in the middle (`/etc/passwd/x`) is ENOTDIR.
 *
 * The answer is only as good as the moment it was computed: a process that can write the rootfs
 * (another container sharing a volume) may swap a directory for a symlink afterwards. The
 * caller closes that window at mount time: open the answer with O_PATH, check that
 * /proc/self/fd/N still reads back as the answer, and mount onto /proc/self/fd/N (runc's
 * WithProcfd); see docs/runtime.md for what the native layer does and the residual risk.
 */

export type NodeKind = 'dir' | 'symlink' | 'file' | 'other' | 'missing';

export interface PathView {
  /** what the path is, without following a final symlink */
  lstat(path: string): NodeKind;
  readlink(path: string): string;
}

export class SecureJoinError extends Error {
  constructor(
    readonly code: 'ELOOP' | 'ENOTDIR' | 'EINVAL',
    readonly unsafePath: string,
    message: string,
  ) {
    super(message);
    this.name = 'SecureJoinError';
  }
}

export const MAX_SYMLINKS = 255;

function splitComponents(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

/**
 * root: absolute, clean, already trusted (the rootfs after its own symlink check);
 * unsafePath: anything. Returns an absolute path equal to root or below it.
 */
export function secureJoin(root: string, unsafePath: string, view: PathView): string {
  if (!root.startsWith('/')) throw new SecureJoinError('EINVAL', unsafePath, `root ${root} is not absolute`);
  if (unsafePath.includes('\0')) throw new SecureJoinError('EINVAL', unsafePath, 'path contains a NUL byte');
  const base = root === '/' ? '' : root.replace(/\/+$/, '');
  // components resolved so far (inside the root) and the ones still to walk
  const done: string[] = [];
  let todo = splitComponents(unsafePath);
  let links = 0;
  while (todo.length > 0) {
    const c = todo.shift()!;
    if (c === '..') {
      done.pop();
      continue;
    }
    const candidate = `${base}/${[...done, c].join('/')}`;
    const kind = view.lstat(candidate);
    if (kind === 'missing') {
      // nothing below can be a symlink yet: keep the rest lexically, `..` still bounded
      done.push(c);
      for (const r of todo) {
        if (r === '..') done.pop();
        else done.push(r);
      }
      todo = [];
      break;
    }
    if (kind === 'symlink') {
      if (++links > MAX_SYMLINKS) throw new SecureJoinError('ELOOP', unsafePath, 'too many levels of symbolic links');
      const target = view.readlink(candidate);
      if (target.startsWith('/')) done.length = 0;
      todo = [...splitComponents(target), ...todo];
      continue;
    }
    // a file in the middle of the path (`x/..` after a file is ENOTDIR for the kernel too)
    if (kind !== 'dir' && todo.length > 0) throw new SecureJoinError('ENOTDIR', unsafePath, `${candidate.slice(base.length)} is not a directory`);
    done.push(c);
  }
  const rel = done.join('/');
  return rel === '' ? (base === '' ? '/' : base) : `${base}/${rel}`;
}

/** true if `p` is `root` or below it, lexically (both clean and absolute) */
export function isWithin(root: string, p: string): boolean {
  if (root === '/') return p.startsWith('/');
  return p === root || p.startsWith(`${root}/`);
}

/** the real filesystem, for the parent's plan-time resolution and for tests on a temp dir */
export interface LstatFs {
  lstatSync(path: string, opts: { throwIfNoEntry: false }): { isSymbolicLink(): boolean; isDirectory(): boolean; isFile(): boolean } | undefined;
  readlinkSync(path: string, encoding: 'utf8'): string;
}
export function fsPathView(fs: LstatFs): PathView {
  return {
    lstat(path) {
      const st = fs.lstatSync(path, { throwIfNoEntry: false });
      if (!st) return 'missing';
      if (st.isSymbolicLink()) return 'symlink';
      if (st.isDirectory()) return 'dir';
      if (st.isFile()) return 'file';
      return 'other';
    },
    readlink: (path) => fs.readlinkSync(path, 'utf8'),
  };
}
