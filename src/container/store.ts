/**
 * The container store of `hostscope run`: names and per-container state.
 *
 *   ROOT/names/<name>              the container's id; created O_EXCL: the file is the lock
 *   ROOT/containers/<id>/          the bundle and the monitor's files
 *       container.json             what `run` was asked (name, image, command, created)
 *       config.json, rootfs/       the OCI bundle (rootfs/ only for a copied image)
 *       monitor.pid, ctr.log, exit the monitor's (src/native/c/monitor.c)
 *       init.pid                   the runtime's --pid-file
 *
 * ROOT is /run/hostscope (tmpfs: containers do not survive a reboot, as with runc). Every file
 * read here is bounded; names and ids are checked before they become paths.
 */
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { checkName, RunConfigError } from './config.js';
import { escapeControl } from '../render/escape.js';

export const DEFAULT_STORE_ROOT = '/run/hostscope';

export class StoreError extends Error {}

/**
 * ROOT (0711) and then ROOT/sub with its own mode. ROOT comes first and on its own: a recursive
 * mkdir of ROOT/sub would give ROOT the sub's 0700, and then a --userns container's root (uid
 * 100000) cannot reach its bundle's rootfs under ROOT/containers (runc's /run/runc is 0711 too).
 */
export function mkdirInStore(root: string, sub: string, mode: number): string {
  fs.mkdirSync(root, { recursive: true, mode: 0o711 });
  const d = join(root, sub);
  fs.mkdirSync(d, { recursive: true, mode });
  return d;
}

export interface ContainerRecord {
  id: string;
  name: string;
  image: string;
  command: string[];
  /** RFC 3339 */
  created: string;
  /** the rootfs is ours (a copy) and goes with the container */
  ownRootfs: boolean;
  rm: boolean;
}

export interface ExitRecord {
  exitCode: number;
  signal: number | null;
  finishedAt: string;
}

export function newId(): string {
  return randomBytes(32).toString('hex');
}

const ID_RE = /^[0-9a-f]{64}$/;

function readSmall(path: string, max = 64 * 1024): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    if (!fs.fstatSync(fd).isFile()) return undefined;
    const buf = Buffer.alloc(max);
    const n = fs.readSync(fd, buf, 0, max, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

export class Store {
  constructor(readonly root: string = DEFAULT_STORE_ROOT) {}

  dir(id: string): string {
    if (!ID_RE.test(id)) throw new StoreError(`not a container id: ${id}`);
    return join(this.root, 'containers', id);
  }

  private nameFile(name: string): string {
    try {
      checkName(name);
    } catch (e) {
      throw new StoreError((e as RunConfigError).message);
    }
    return join(this.root, 'names', name);
  }

  /** take the name for id (O_EXCL); a name in use is docker's error */
  reserveName(name: string, id: string): void {
    const f = this.nameFile(name);
    mkdirInStore(this.root, 'names', 0o700);
    let fd: number;
    try {
      fd = fs.openSync(f, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        const other = readSmall(f, 128)?.trim() ?? '';
        throw new StoreError(`the container name "${name}" is already in use by ${ID_RE.test(other) ? other : '(a container being created)'}`);
      }
      throw e;
    }
    try {
      fs.writeSync(fd, `${id}\n`);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** drop the name, only if it still names id */
  releaseName(name: string, id: string): void {
    const f = this.nameFile(name);
    if (readSmall(f, 128)?.trim() === id) fs.rmSync(f, { force: true });
  }

  create(rec: ContainerRecord): string {
    const d = this.dir(rec.id);
    mkdirInStore(this.root, 'containers', 0o711);
    fs.mkdirSync(d, { mode: 0o711 });
    fs.writeFileSync(join(d, 'container.json'), `${JSON.stringify(rec)}\n`, { mode: 0o600, flag: 'wx' });
    return d;
  }

  record(id: string): ContainerRecord | undefined {
    const t = readSmall(join(this.dir(id), 'container.json'));
    if (t === undefined) return undefined;
    try {
      const r = JSON.parse(t) as ContainerRecord;
      return r.id === id ? r : undefined;
    } catch {
      return undefined;
    }
  }

  ids(): string[] {
    try {
      return fs.readdirSync(join(this.root, 'containers')).filter((n) => ID_RE.test(n));
    } catch {
      return [];
    }
  }

  /** a name, a full id or a unique id prefix → the id */
  resolve(ref: string): string {
    if (ref === '') throw new StoreError(`no such container: ''`);
    if (/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(ref) && ref.length <= 128) {
      const byName = readSmall(join(this.root, 'names', ref), 128)?.trim();
      if (byName && ID_RE.test(byName) && fs.existsSync(this.dir(byName))) return byName;
    }
    if (/^[0-9a-f]{1,64}$/.test(ref)) {
      const m = this.ids().filter((i) => i.startsWith(ref));
      if (m.length === 1) return m[0]!;
      if (m.length > 1) throw new StoreError(`multiple containers match '${ref}': ${m.map((i) => i.slice(0, 12)).join(', ')}`);
    }
    throw new StoreError(`no such container: ${escapeControl(ref)}`);
  }

  exit(id: string): ExitRecord | undefined {
    const t = readSmall(join(this.dir(id), 'exit'), 1024);
    if (!t) return undefined;
    try {
      return JSON.parse(t) as ExitRecord;
    } catch {
      return undefined;
    }
  }

  pidFile(id: string, name: 'init.pid' | 'monitor.pid'): number | undefined {
    const t = readSmall(join(this.dir(id), name), 64)?.trim();
    if (!t || !/^[1-9]\d{0,9}$/.test(t)) return undefined;
    return Number(t);
  }

  /** the container's directory and name gone (the cgroup and the processes are the caller's) */
  remove(id: string): void {
    // the name first: the directory's going is the last step, so whoever sees it gone sees all gone
    const rec = this.record(id);
    if (rec) this.releaseName(rec.name, id);
    fs.rmSync(this.dir(id), { recursive: true, force: true });
  }
}

/** go-units HumanDuration, as docker ps prints it */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const min = Math.floor(ms / 60000);
  if (min === 1) return 'About a minute';
  if (min < 60) return `${min} minutes`;
  const h = Math.round(ms / 3600000);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}
