import { closeSync, constants, existsSync, ftruncateSync, mkdirSync, openSync, readSync, rmdirSync, writeSync } from 'node:fs';
import { fsPath, readdirEntries } from '../source/bounded.js';

/**
 * The writable side of cgroupfs, as the cgroup manager needs it. Paths are absolute host paths
 * (`/sys/fs/cgroup/memory/hostscope/abc/memory.limit_in_bytes`); an implementation may root them
 * elsewhere (a temp dir laid out like a host, in tests). Failures are thrown as Node's fs errors
 * (an `Error` with `code: 'EBUSY'`); the manager turns them into CgroupErrors naming file and value.
 */
export interface CgroupFs {
  /** one level; throws EEXIST when it exists */
  mkdir(path: string): void;
  rmdir(path: string): void;
  /** one write(2) of the whole value, as control files want it; never creates the file */
  writeFile(path: string, data: string): void;
  readFile(path: string): string;
  /** the entries of a directory, with whether each is a directory */
  readdir(path: string): { name: string; isDir: boolean }[];
  exists(path: string): boolean;
}

/** Control files are small; a bounded read keeps a hostile file from eating memory. */
export const MAX_CONTROL_FILE = 1024 * 1024;

/**
 * The real filesystem. With a `root`, every absolute path is taken under it (tests point it at a
 * temp dir shaped like /sys/fs/cgroup); there a write replaces the file's content, as a control
 * file's value is replaced.
 */
export class NodeCgroupFs implements CgroupFs {
  constructor(readonly root = '') {}

  /**
   * The path to hand node:fs: by its bytes when it holds a name that is not UTF-8 (a child cgroup
   * someone inside the container named so; readdir gives it as lone surrogates), else the string.
   */
  private at(path: string): string | Buffer {
    if (!path.startsWith('/') || path.split('/').includes('..')) throw Object.assign(new Error(`not an absolute clean path: ${path}`), { code: 'EINVAL' });
    try {
      return fsPath(this.root + path);
    } catch {
      throw Object.assign(new Error(`not a path of bytes: ${path}`), { code: 'EINVAL' });
    }
  }

  mkdir(path: string): void {
    mkdirSync(this.at(path), { mode: 0o755 });
  }

  rmdir(path: string): void {
    rmdirSync(this.at(path));
  }

  writeFile(path: string, data: string): void {
    // no O_CREAT: a control file the kernel did not make (controller missing) is ENOENT
    const fd = openSync(this.at(path), 'r+');
    try {
      const buf = Buffer.from(data);
      if (this.root === '') {
        writeSync(fd, buf, 0, buf.length, null);
      } else {
        const n = writeSync(fd, buf, 0, buf.length, 0);
        ftruncateSync(fd, n);
      }
    } finally {
      closeSync(fd);
    }
  }

  readFile(path: string): string {
    // O_NONBLOCK: a FIFO planted in a hostile tree must not block the reader
    const fd = openSync(this.at(path), constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const chunks: Buffer[] = [];
      let len = 0;
      for (;;) {
        const chunk = Buffer.allocUnsafe(16 * 1024);
        const n = readSync(fd, chunk, 0, chunk.length, null);
        if (n === 0) break;
        chunks.push(chunk.subarray(0, n));
        len += n;
        if (len > MAX_CONTROL_FILE) throw Object.assign(new Error(`${path}: larger than ${MAX_CONTROL_FILE} bytes`), { code: 'EFBIG' });
      }
      return Buffer.concat(chunks, len).toString('utf8');
    } finally {
      closeSync(fd);
    }
  }

  readdir(path: string): { name: string; isDir: boolean }[] {
    this.at(path); // checked
    return readdirEntries(this.root + path);
  }

  exists(path: string): boolean {
    try {
      return existsSync(this.at(path));
    } catch {
      return false;
    }
  }
}

/** One operation a RecordingCgroupFs saw. */
export type CgroupFsOp =
  | { op: 'mkdir' | 'rmdir'; path: string }
  | { op: 'write'; path: string; data: string };

/**
 * A CgroupFs that records every mkdir, rmdir and write (reads are not recorded) before handing it
 * to the filesystem it wraps, so tests assert the exact files, values and order.
 */
export class RecordingCgroupFs implements CgroupFs {
  readonly ops: CgroupFsOp[] = [];

  constructor(readonly inner: CgroupFs) {}

  mkdir(path: string): void {
    this.ops.push({ op: 'mkdir', path });
    this.inner.mkdir(path);
  }

  rmdir(path: string): void {
    this.ops.push({ op: 'rmdir', path });
    this.inner.rmdir(path);
  }

  writeFile(path: string, data: string): void {
    this.ops.push({ op: 'write', path, data });
    this.inner.writeFile(path, data);
  }

  readFile(path: string): string {
    return this.inner.readFile(path);
  }

  readdir(path: string): { name: string; isDir: boolean }[] {
    return this.inner.readdir(path);
  }

  exists(path: string): boolean {
    return this.inner.exists(path);
  }
}
