/**
 * Container state: runc's state JSON (what `state` and `list` print), the files under --root
 * (default /run/runc-ts), the status derived at query time, and a lock per container.
 *
 * Layout:
 *   <root>/<id>/state.json   ours (private): pid, its start time, bundle, rootfs, created, owner,
 *                            annotations, cgroup paths, namespaces; written to a temp file and renamed
 *   <root>/<id>/exec.fifo    exists from create until start (the init blocks writing it)
 *   <root>/.locks/<id>       the lock (outside the state dir, which delete removes)
 *
 * Status is never stored: it is derived from the init pid, its start time (a pid reused by
 * another process is "stopped"), its state letter (a zombie is "stopped"), the freezer
 * ("paused") and the fifo ("created"), in runc's order (refreshState: paused, then created or
 * running, else stopped).
 *
 * Locking: Node has no flock(2) and the native runner forks rather than runs in-process, so the
 * lock is a file holding "pid starttime nonce", written whole to a temp file and linked into place
 * (link(2) fails with EEXIST when it is held): a lock file is never seen half-written, and one
 * left empty (by a runc-ts that made it with O_EXCL and died before writing, as earlier versions
 * did) is stale once older than EMPTY_LOCK_STALE_MS. A lock whose holder is gone
 * (pid dead or start time changed) is stale and is broken by renaming it aside and checking the
 * nonce of what was renamed: only the exact stale file is removed; if a live lock was caught in
 * between it is linked back. See docs/runtime.md for the residual race.
 */
import * as nodeFs from 'node:fs';
import { randomHex } from '../util/random.js';
import { parseJson, isJsonObject, type JsonObject, JsonError } from './json.js';

/**
 * config.json annotation (value "true") by which the config's writer — a front end such as
 * `hostscope run`, never runc-ts's user by accident — says the parent of its cgroupsPath is its own
 * default parent, to be treated as runc-ts treats `/runc-ts`: removed at the container's end where
 * left empty, and a create that races that removal retries. Any other value, or none: the parent
 * stays, as runc leaves every parent.
 */
export const REMOVE_EMPTY_PARENT_ANNOTATION = 'org.hostscope.runc-ts.remove-empty-cgroup-parent';

/**
 * Is the parent of this container's cgroup runc-ts's to remove where left empty at its end: the
 * default `/runc-ts` (no cgroupsPath), or a cgroupsPath `/<parent>/<id>` whose config carries
 * REMOVE_EMPTY_PARENT_ANNOTATION. Only a parent right under a hierarchy's root: an annotation can
 * be passed through from a user (a CRI pod's annotations), and a relative path (under the
 * caller's own cgroup), a deeper one or a systemd `slice:prefix:name` names a parent some manager
 * owns.
 */
export function removesEmptyParent(cgroupsPath: string | undefined, annotations: Readonly<Record<string, string>>): boolean {
  if (cgroupsPath === undefined) return true;
  return annotations[REMOVE_EMPTY_PARENT_ANNOTATION] === 'true' && /^\/[^/]+\/[^/]+$/.test(cgroupsPath) && !cgroupsPath.split('/').some((c) => c === '.' || c === '..');
}

/** `runc state` shape, in runc's field order (utils_linux.go containerState) */
export interface OciState {
  ociVersion: string;
  id: string;
  pid: number;
  status: Status;
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
  owner: string;
}

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/** what we keep in <root>/<id>/state.json */
export interface SavedState {
  id: string;
  /** the init's pid in our pid namespace; 0 before the init exists */
  pid: number;
  /** field 22 of /proc/<pid>/stat when the init was started: a different value means the pid was reused */
  pidStartTime: number;
  bundle: string;
  rootfs: string;
  /** RFC 3339 with nanoseconds, UTC, as runc prints it */
  created: string;
  owner: string;
  annotations: Record<string, string>;
  /** true until the init reported READY (parked on its fifo) */
  creating: boolean;
  /** controller (or "" for the unified hierarchy) → absolute cgroup directory */
  cgroupPaths: Record<string, string>;
  /**
   * true when the cgroup's parent is a default one: config.json gave no cgroupsPath and runc-ts
   * chose `/runc-ts/<id>`, or the config's writer declared the parent of its cgroupsPath its own
   * default (REMOVE_EMPTY_PARENT_ANNOTATION: hostscope run's `/hostscope`). The container's end
   * removes that parent where it is left empty. Absent (false) in states of older runc-ts and
   * whenever the user named the cgroup: a parent the user named is never removed.
   */
  defaultCgroup?: boolean;
  /** the namespace types of the container's config, for exec */
  namespaces: string[];
  /** config.json as the container was created with (exec takes its process from here) */
  configPath: string;
  rootless: boolean;
}

/** runc's OCI version string of state output (runc 1.1: specs-go Version) */
export const STATE_OCI_VERSION = '1.0.2-dev';
export const DEFAULT_ROOT = '/run/runc-ts';
/** state.json is small; anything bigger is not ours */
export const MAX_STATE_BYTES = 1024 * 1024;

/** a container id: runc's rule (^[\w+-\.]+$), and never "." or ".." (it names a directory) */
export function validateId(id: string): string | undefined {
  if (id === '') return 'container id cannot be empty';
  if (!/^[\w+\-.]+$/.test(id) || id === '.' || id === '..') return `invalid container id format: ${JSON.stringify(id)}`;
  if (id.length > 1024) return 'container id too long';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// status (pure)

/** what the query found about the init right now */
export interface InitProbe {
  /** /proc/<pid>/stat could be read */
  exists: boolean;
  startTime?: number;
  /** the state letter of /proc/<pid>/stat (R, S, D, Z, X, T, t …) */
  stateLetter?: string;
  /** the container's cgroup is frozen */
  frozen: boolean;
  /** <root>/<id>/exec.fifo exists */
  fifoExists: boolean;
}

export function deriveStatus(s: SavedState, p: InitProbe): Status {
  if (s.pid <= 0) return s.creating ? 'creating' : 'stopped';
  if (!p.exists) return 'stopped';
  if (p.startTime !== s.pidStartTime) return 'stopped'; // pid reuse
  if (p.stateLetter === 'Z' || p.stateLetter === 'X' || p.stateLetter === 'x') return 'stopped';
  if (p.frozen) return 'paused';
  if (s.creating) return 'creating';
  if (p.fifoExists) return 'created';
  return 'running';
}

/** the `runc state` object; a stopped container shows pid 0, as runc does */
export function ociState(s: SavedState, status: Status): OciState {
  const out: OciState = {
    ociVersion: STATE_OCI_VERSION,
    id: s.id,
    pid: status === 'stopped' ? 0 : s.pid,
    status,
    bundle: s.bundle,
    rootfs: s.rootfs,
    created: s.created,
    owner: s.owner,
  };
  if (Object.keys(s.annotations).length > 0) {
    // annotations sit before owner in runc's struct
    const { owner, ...rest } = out;
    return { ...rest, annotations: s.annotations, owner };
  }
  return out;
}

/** `runc state` prints json.MarshalIndent(state, "", "  ") */
export function renderOciState(st: OciState): string {
  return JSON.stringify(st, null, '  ');
}

/** RFC 3339 with 9 fractional digits, as Go's time.Time marshals in UTC (trailing zeros trimmed) */
export function rfc3339Nano(epochMs: number, extraNs = 0): string {
  const d = new Date(epochMs);
  const iso = d.toISOString(); // 2026-12-01T20:32:11.123Z
  const ns = (d.getUTCMilliseconds() * 1_000_000 + extraNs).toString().padStart(9, '0').replace(/0+$/, '');
  return `${iso.slice(0, 19)}${ns ? `.${ns}` : ''}Z`;
}

// ---------------------------------------------------------------------------------------------
// the store (I/O through an injected fs, tested on a temp dir)

export type Fs = Pick<
  typeof nodeFs,
  'mkdirSync' | 'writeFileSync' | 'renameSync' | 'readFileSync' | 'readdirSync' | 'rmSync' | 'rmdirSync' | 'existsSync' | 'openSync' | 'closeSync' | 'writeSync' | 'unlinkSync' | 'linkSync' | 'lstatSync' | 'fstatSync' | 'readSync'
>;

export class StateError extends Error {
  constructor(
    message: string,
    readonly code: 'NOT_FOUND' | 'EXISTS' | 'LOCKED' | 'CORRUPT' | 'INVALID_ID',
  ) {
    super(message);
    this.name = 'StateError';
  }
}

/** is this pid alive with this start time? (injected: /proc/<pid>/stat in production) */
export type Liveness = (pid: number, startTime: number) => boolean;

export class StateStore {
  constructor(
    readonly root: string,
    private readonly fs: Fs = nodeFs,
  ) {}

  dir(id: string): string {
    const bad = validateId(id);
    if (bad) throw new StateError(bad, 'INVALID_ID');
    return `${this.root}/${id}`;
  }
  statePath(id: string): string {
    return `${this.dir(id)}/state.json`;
  }
  fifoPath(id: string): string {
    return `${this.dir(id)}/exec.fifo`;
  }
  /** the exec fifo is there (and is a FIFO): the container is parked, not started */
  fifoExists(id: string): boolean {
    try {
      return this.fs.lstatSync(this.fifoPath(id)).isFIFO();
    } catch {
      return false;
    }
  }
  lockPath(id: string): string {
    this.dir(id);
    return `${this.root}/.locks/${id}`;
  }

  /** make <root>/<id> (0711 like runc's state dir), refusing an id in use */
  create(id: string): string {
    const d = this.dir(id);
    this.fs.mkdirSync(this.root, { recursive: true, mode: 0o711 });
    try {
      this.fs.mkdirSync(d, { mode: 0o711 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new StateError(`container with id exists: ${id}`, 'EXISTS');
      throw e;
    }
    return d;
  }

  save(s: SavedState): void {
    const p = this.statePath(s.id);
    const tmp = `${p}.${process.pid}.${randomHex(4)}.tmp`;
    this.fs.writeFileSync(tmp, JSON.stringify(s), { mode: 0o600, flag: 'wx' });
    this.fs.renameSync(tmp, p);
  }

  load(id: string): SavedState {
    const p = this.statePath(id);
    let text: string;
    try {
      text = readBounded(this.fs, p, MAX_STATE_BYTES);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new StateError(`container does not exist: ${id}`, 'NOT_FOUND');
      throw e;
    }
    return parseSavedState(text, id);
  }

  /** ids with a state dir, sorted; the lock dir and stray files are skipped */
  list(): string[] {
    let names: string[];
    try {
      names = this.fs.readdirSync(this.root);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return names.filter((n) => validateId(n) === undefined && !n.startsWith('.') && this.fs.existsSync(`${this.root}/${n}/state.json`)).sort();
  }

  /**
   * Remove the state dir. Its entries are files (state.json, hooks.json, FIFOs): unlinked one by
   * one — fs.rmSync's recursive walk loads and runs Node's rimraf, a measurable part of a `run`.
   * Anything else found there (a directory) still goes through rmSync.
   */
  remove(id: string): void {
    const dir = this.dir(id);
    let names: string[];
    try {
      names = this.fs.readdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const n of names) {
      try {
        this.fs.unlinkSync(`${dir}/${n}`);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EISDIR' || code === 'EPERM') this.fs.rmSync(`${dir}/${n}`, { recursive: true, force: true });
        else if (code !== 'ENOENT') throw e;
      }
    }
    try {
      this.fs.rmdirSync(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ENOTEMPTY: a file made meanwhile (a concurrent command): the recursive removal takes it
      if (code === 'ENOTEMPTY') this.fs.rmSync(dir, { recursive: true, force: true });
      else if (code !== 'ENOENT') throw e;
    }
  }

  /**
   * Take the container's lock, or throw LOCKED naming the holder. A stale lock (holder gone) is
   * broken. `attempts` bounds the retries when several breakers race.
   */
  lock(id: string, alive: Liveness, self: { pid: number; startTime: number }, attempts = 5): () => void {
    const path = this.lockPath(id);
    this.fs.mkdirSync(`${this.root}/.locks`, { recursive: true, mode: 0o700 });
    const mine = `${self.pid} ${self.startTime} ${randomHex(8)}\n`;
    // written whole beside it, then linked into place: the lock is never half-written
    const tmp = `${this.root}/.locks/.${id}.${process.pid}.${randomHex(4)}.tmp`;
    const fd = this.fs.openSync(tmp, 'wx', 0o600);
    try {
      this.fs.writeSync(fd, mine);
    } finally {
      this.fs.closeSync(fd);
    }
    try {
      for (let i = 0; i < attempts; i++) {
        try {
          this.fs.linkSync(tmp, path);
          return () => this.unlock(path, mine);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        let held: string;
        let age: number;
        try {
          ({ text: held, age } = readBoundedAged(this.fs, path, 256));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
          throw e;
        }
        const m = /^(\d+) (\d+) ([0-9a-f]+)\n$/.exec(held);
        if (m && alive(Number(m[1]), Number(m[2]))) throw new StateError(`container ${id} is locked by pid ${m[1]}`, 'LOCKED');
        if (!m && held !== '') throw new StateError(`lock file ${path} is not ours`, 'CORRUPT');
        // empty: an O_EXCL lock of an earlier runc-ts, its writer between open and write (held) or dead there (stale, once old)
        if (!m && age < EMPTY_LOCK_STALE_MS) throw new StateError(`container ${id} is locked (its lock file is being written)`, 'LOCKED');
        this.breakStale(path, held);
      }
      throw new StateError(`container ${id}: could not take its lock`, 'LOCKED');
    } finally {
      try {
        this.fs.unlinkSync(tmp);
      } catch {
        /* gone */
      }
    }
  }

  private breakStale(path: string, stale: string): void {
    const aside = `${path}.stale.${process.pid}.${randomHex(4)}`;
    try {
      this.fs.renameSync(path, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    let caught = '';
    try {
      caught = readBounded(this.fs, aside, 256);
    } catch {
      /* gone: nothing to put back */
    }
    if (caught !== stale && caught !== '') {
      // a live lock was taken between our read and our rename: give it back if its place is free
      try {
        this.fs.linkSync(aside, path);
      } catch {
        /* someone else holds it now; the live holder's unlock will find another lock and leave it */
      }
    }
    try {
      this.fs.unlinkSync(aside);
    } catch {
      /* gone already */
    }
  }

  private unlock(path: string, mine: string): void {
    try {
      if (readBounded(this.fs, path, 256) === mine) this.fs.unlinkSync(path);
    } catch {
      /* already gone */
    }
  }
}

/** an empty lock file older than this is stale: its writer died between open and write */
export const EMPTY_LOCK_STALE_MS = 10_000;

function readBoundedAged(fs: Fs, path: string, max: number): { text: string; age: number } {
  const fd = fs.openSync(path, nodeFs.constants.O_RDONLY | nodeFs.constants.O_NOFOLLOW | nodeFs.constants.O_NONBLOCK);
  try {
    const age = Date.now() - fs.fstatSync(fd).mtimeMs;
    return { text: readBoundedFd(fs, fd, max, stateFileErrors(path, max)), age };
  } finally {
    fs.closeSync(fd);
  }
}

function readBounded(fs: Fs, path: string, max: number): string {
  const fd = fs.openSync(path, nodeFs.constants.O_RDONLY | nodeFs.constants.O_NOFOLLOW | nodeFs.constants.O_NONBLOCK);
  try {
    return readBoundedFd(fs, fd, max, stateFileErrors(path, max));
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A regular file's text from an open descriptor, at most `max` bytes: the buffer is sized by fstat
 * and grown up to max + 1 if the file grows (not max + 1 zeroed bytes on every read). Errors are
 * the caller's: `notFile` when it is not a regular file, `tooBig` past max.
 */
export function readBoundedFd(
  fs: Pick<Fs, 'fstatSync' | 'readSync'>,
  fd: number,
  max: number,
  errors: { notFile: () => Error; tooBig: () => Error },
  initial = 256,
): string {
  const st = fs.fstatSync(fd);
  if (!st.isFile()) throw errors.notFile();
  let buf = Buffer.allocUnsafe(Math.min(max + 1, Math.max(initial, st.size + 1)));
  let n = 0;
  for (;;) {
    if (n === buf.length) {
      const bigger = Buffer.allocUnsafe(Math.min(max + 1, buf.length * 2));
      buf.copy(bigger, 0, 0, n);
      buf = bigger;
    }
    const r = fs.readSync(fd, buf, n, buf.length - n, null);
    if (r === 0) break;
    n += r;
    if (n > max) throw errors.tooBig();
  }
  return buf.subarray(0, n).toString('utf8');
}

/** state and lock files: plain errors with the errno-like code their callers test */
const stateFileErrors = (path: string, max: number) => ({
  notFile: () => Object.assign(new Error(`${path} is not a regular file`), { code: 'EINVAL' }),
  tooBig: () => Object.assign(new Error(`${path} is larger than ${max} bytes`), { code: 'EFBIG' }),
});

/** state.json, read back with the same suspicion as config.json (someone may have edited it) */
export function parseSavedState(text: string, id: string): SavedState {
  let v;
  try {
    v = parseJson(text, { maxSize: MAX_STATE_BYTES, maxDepth: 16 });
  } catch (e) {
    if (e instanceof JsonError) throw new StateError(`state of ${id} is corrupt: ${e.message}`, 'CORRUPT');
    throw e;
  }
  const bad = (f: string): never => {
    throw new StateError(`state of ${id} is corrupt: ${f}`, 'CORRUPT');
  };
  if (!isJsonObject(v)) return bad('not an object');
  const o = v;
  const s = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : bad(k));
  const n = (k: string) => (typeof o[k] === 'number' && Number.isSafeInteger(o[k]) && (o[k] as number) >= 0 ? (o[k] as number) : bad(k));
  const b = (k: string) => (typeof o[k] === 'boolean' ? (o[k] as boolean) : bad(k));
  const strMap = (k: string): Record<string, string> => {
    const m = o[k];
    if (!isJsonObject(m)) return bad(k);
    const out: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [kk, vv] of Object.entries(m as JsonObject)) out[kk] = typeof vv === 'string' ? vv : bad(`${k}.${kk}`);
    return out;
  };
  const saved: SavedState = {
    id: s('id'),
    pid: n('pid'),
    pidStartTime: n('pidStartTime'),
    bundle: s('bundle'),
    rootfs: s('rootfs'),
    created: s('created'),
    owner: s('owner'),
    annotations: strMap('annotations'),
    creating: b('creating'),
    cgroupPaths: strMap('cgroupPaths'),
    ...(o.defaultCgroup === undefined ? {} : { defaultCgroup: b('defaultCgroup') }),
    namespaces: Array.isArray(o.namespaces) && o.namespaces.every((x) => typeof x === 'string') ? (o.namespaces as string[]) : bad('namespaces'),
    configPath: s('configPath'),
    rootless: b('rootless'),
  };
  if (saved.id !== id) bad(`id ${JSON.stringify(saved.id)} in the state of ${id}`);
  return saved;
}

/** one row of `runc list`: the state with the owner's user name (list shows "root" where state shows "") */
export interface ListRow {
  state: OciState;
  ownerName: string;
}

/**
 * `runc list` table: Go's tabwriter.NewWriter(out, 12, 1, 3, ' ', 0) over
 * "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER": every column but the last is as wide as its widest
 * cell plus 3, at least 12. Text from the state (bundle, id) is printed as is; ids are checked
 * when made, bundles are absolute paths the caller gave, so they are escaped by the CLI.
 */
export function renderListTable(rows: ListRow[]): string {
  const lines = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...rows.map((r) => [r.state.id, String(r.state.pid), r.state.status, r.state.bundle, r.state.created, r.ownerName])];
  const widths = [0, 1, 2, 3, 4].map((c) => Math.max(12, ...lines.map((l) => l[c]!.length + 3)));
  return lines.map((l) => l.map((cell, c) => (c < 5 ? cell.padEnd(widths[c]!) : cell)).join('') + '\n').join('');
}

/** `runc list --format json`: json.Encoder, one line; an empty list is `null`, as Go encodes a nil slice */
export function renderListJson(rows: ListRow[]): string {
  if (rows.length === 0) return 'null\n';
  return `${JSON.stringify(rows.map((r) => ({ ...r.state, owner: r.ownerName })))}\n`;
}
