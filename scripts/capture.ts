/**
 * Capture a host dump for fixtures: copies /proc/<pid>/* of chosen pids and the cgroup directories
 * they are in, by READING each file (tar gives empty files on /proc), keeping ns entries as
 * symlinks with the kernel's text, recording every errno in errors.json and redacting environ
 * values. With --make-namespaces it first starts processes of its own to be captured (namespaces
 * made by unshare, a zombie, a process with a hostile name, one in a limited v1 cgroup) and
 * removes all of them, and the cgroup, when done.
 *
 *   npm run capture -- --out fixtures/hosts/NAME [--pids 1,2,3 | --all] [--make-namespaces]
 *   (that is node dist/scripts/capture.js after npm run build)
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, rmdirSync, symlinkSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir, release } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { NS_ENTRIES } from '../src/parse/ns-link.js';
import { parseProcCgroupBytes } from '../src/parse/proc-cgroup.js';
import { parseMountInfo } from '../src/parse/proc-mountinfo.js';
import { cgroupSysRel, detectCgroupLayout, hierarchyFor } from '../src/cgroup/layout.js';
import { errnoOf } from '../src/source/errors.js';
import { escapeControl } from '../src/render/escape.js';
import { fsPath, readdirEntries } from '../src/source/bounded.js';
import { CLEAN_ENV, Spawned, ZOMBIE_MAKER, descendants, waitFor } from './lib/spawned.js';
import { captureRuntimeFiles } from './lib/runtime-files.js';

const FILES = ['stat', 'status', 'cmdline', 'comm', 'environ', 'cgroup', 'mountinfo', 'uid_map', 'gid_map', 'setgroups'];
/** environ keys whose values are kept: they name things, they are not secrets */
const KEEP_ENV = new Set(['HOSTNAME', 'PATH', 'HOME', 'TERM', 'container', 'SHLVL', 'PWD', 'LANG']);

interface Args {
  out: string;
  pids: number[] | 'all';
  makeNamespaces: boolean;
  description: string;
}

const USAGE = `Usage:
 npm run capture -- --out <dir> [--pids <pid,...> | --all] [--make-namespaces] [--description <text>]
 node dist/scripts/capture.js --out <dir> ...

Capture a host dump (proc/, sys/, etc/passwd, root/ runtime files, MANIFEST.json, errors.json) that every command reads
with --proc-root <dir>/proc --sys-root <dir>/sys.

Options:
 --out <dir>            where to write the dump (replaced if it holds an earlier dump)
 --pids <pid,...>       only these processes (and the capture's own)
 --all                  every process (the default)
 --make-namespaces      first start processes of its own in new namespaces, a zombie and one in a
                        limited v1 cgroup, and remove them when done
 --description <text>   recorded in MANIFEST.json
 -h, --help             display this help
`;

class UsageError extends Error {}

/** argv → Args, 'help', or a UsageError naming what was wrong. */
export function parseArgv(argv: string[]): Args | 'help' {
  const a: Args = { out: '', pids: 'all', makeNamespaces: false, description: '' };
  const value = (i: number, k: string): string => {
    const v = argv[i];
    if (v === undefined) throw new UsageError(`option '${k}' requires an argument`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    if (k === '--help' || k === '-h') return 'help';
    if (k === '--out') a.out = value(++i, k);
    else if (k === '--pids') {
      const text = value(++i, k);
      if (!/^\d+(,\d+)*$/.test(text)) throw new UsageError(`invalid --pids argument: '${text}'`);
      a.pids = text.split(',').map(Number);
    } else if (k === '--all') a.pids = 'all';
    else if (k === '--make-namespaces') a.makeNamespaces = true;
    else if (k === '--description') a.description = value(++i, k);
    else if (k.startsWith('-')) throw new UsageError(`unrecognized option '${k}'`);
    else throw new UsageError(`unexpected argument '${k}'`);
  }
  if (!a.out) throw new UsageError('--out <dir> is required');
  return a;
}

/** The out directory is replaced: never one that holds anything but an earlier dump. */
function checkOut(out: string): void {
  if (!existsSync(out)) return;
  const entries = readdirSync(out);
  if (entries.length > 0 && !entries.includes('MANIFEST.json')) throw new Error(`capture: ${out} is not empty and holds no earlier dump (MANIFEST.json): refusing to replace it`);
}

const errors: Record<string, string> = {};

/** src and dst by their bytes (fsPath): a cgroup directory whose name is not UTF-8 is copied under that name */
function copyFile(src: string, dst: string, key: string, transform?: (b: Buffer) => Buffer): void {
  try {
    const data = readFileSync(fsPath(src));
    mkdirSync(fsPath(dirname(dst)), { recursive: true });
    writeFileSync(fsPath(dst), transform ? transform(data) : data);
  } catch (e) {
    errors[key] = errnoOf(e) ?? 'EIO';
  }
}

function redactEnviron(buf: Buffer): Buffer {
  const parts = buf.toString('latin1').split('\0');
  return Buffer.from(
    parts
      .map((e) => {
        const eq = e.indexOf('=');
        if (eq < 0) return e;
        const k = e.slice(0, eq);
        return KEEP_ENV.has(k) ? e : `${k}=<redacted>`;
      })
      .join('\0'),
    'latin1',
  );
}

/** argv[0] kept, the arguments replaced: a host's command lines can carry addresses and secrets */
function redactCmdline(buf: Buffer): Buffer {
  const parts = buf.toString('latin1').split('\0');
  const trailing = parts.at(-1) === '' ? parts.pop() : undefined;
  const kept = parts.length <= 1 ? parts : [parts[0]!, '<redacted>'];
  return Buffer.from([...kept, ...(trailing === undefined ? [] : [''])].join('\0'), 'latin1');
}

function capturePid(out: string, pid: number, keepCmdline: boolean, ownProcess: boolean): void {
  const base = join(out, 'proc', String(pid));
  mkdirSync(join(base, 'ns'), { recursive: true });
  for (const f of FILES) {
    if (f === 'environ' && !ownProcess) {
      // even the keys of a host process's environment tell too much: not captured
      errors[`proc/${pid}/environ`] = 'EREDACTED';
      continue;
    }
    const transform = f === 'environ' ? redactEnviron : f === 'cmdline' && !keepCmdline ? redactCmdline : undefined;
    copyFile(`/proc/${pid}/${f}`, join(base, f), `proc/${pid}/${f}`, transform);
  }
  // the LSM labels; where the read fails (EINVAL: no LSM keeps one) an empty file stands for it,
  // so the dump shows the file exists and errors.json says what reading it gave
  for (const f of ['attr/current', 'attr/apparmor/current']) {
    if (!existsSync(`/proc/${pid}/${f}`)) continue;
    copyFile(`/proc/${pid}/${f}`, join(base, f), `proc/${pid}/${f}`);
    if (errors[`proc/${pid}/${f}`] !== undefined) {
      mkdirSync(dirname(join(base, f)), { recursive: true });
      writeFileSync(join(base, f), '');
    }
  }
  for (const e of NS_ENTRIES) {
    try {
      symlinkSync(readlinkSync(`/proc/${pid}/ns/${e}`), join(base, 'ns', e));
    } catch (err) {
      errors[`proc/${pid}/ns/${e}`] = errnoOf(err) ?? 'EIO';
    }
  }
}

function captureCgroupDir(out: string, rel: string): void {
  const dir = join('/sys', rel);
  let names: string[];
  try {
    // names by their bytes; cgroupfs holds only directories and control files
    names = readdirEntries(dir).filter((d) => !d.isDir).map((d) => d.name);
  } catch {
    return;
  }
  for (const n of names) {
    if (['cgroup.kill', 'cgroup.event_control', 'memory.force_empty', 'memory.reclaim'].includes(n)) continue;
    copyFile(join(dir, n), join(out, 'sys', rel, n), `sys/${rel}/${n}`);
  }
}

async function makeNamespaces(): Promise<{ spawned: Spawned; cleanup: () => Promise<void>; cgroupDirs: string[] }> {
  const spawned = new Spawned();
  const env = { ...CLEAN_ENV, SECRET_TOKEN: 'not-a-real-secret' };
  // a container-like set: user (mapped root), mnt, uts, ipc, net, pid with its own /proc, cgroup
  const box = spawned.start('unshare', ['--user', '--map-root-user', '--mount', '--uts', '--ipc', '--net', '--pid', '--cgroup', '--fork', '--mount-proc', 'sh', '-c', 'hostname capture-box; sleep 600 & sleep 600'], { env });
  // only a network namespace (the "ip netns" kind of sandbox)
  spawned.start('unshare', ['--net', 'sleep', '600'], { env });
  // a zombie: the parent does not wait for its child (until told to stop)
  spawned.start('python3', ZOMBIE_MAKER, { env });
  // a hostile name: comm with ':', newline, escape, ')' — through a symlink to sleep
  const tmp = mkdtempSync(join(tmpdir(), 'hostscope-capture-'));
  const evil = join(tmp, 'a:b\nc\x1b[31m)(x');
  symlinkSync('/bin/sleep', evil);
  spawned.start(evil, ['600'], { env });
  // a limited v1 cgroup (memory, pids, cpu) with one process in it, removed at the end
  const cgroupDirs: string[] = [];
  const name = `hostscope-capture-${process.pid}`;
  const limited = spawned.start('sleep', ['600'], { env });
  await sleep(300);
  const put = (ctrl: string, settings: Record<string, string>): void => {
    const d = `/sys/fs/cgroup/${ctrl}/${name}`;
    try {
      mkdirSync(d);
      cgroupDirs.push(d);
      for (const [k, v] of Object.entries(settings)) writeFileSync(join(d, k), v);
      writeFileSync(join(d, 'cgroup.procs'), String(limited.pid));
    } catch (e) {
      process.stderr.write(`capture: cannot set up ${d}: ${escapeControl((e as Error).message)}\n`);
    }
  };
  if (existsSync('/sys/fs/cgroup/memory')) put('memory', { 'memory.limit_in_bytes': String(64 * 1024 * 1024) });
  if (existsSync('/sys/fs/cgroup/pids')) put('pids', { 'pids.max': '50' });
  if (existsSync('/sys/fs/cgroup/cpu')) put('cpu', { 'cpu.cfs_quota_us': '50000', 'cpu.cfs_period_us': '100000', 'cpu.shares': '512' });
  await sleep(500);
  // on a loaded host 0.8 s is not enough for the box to be whole: wait until unshare's child has
  // become sh with its two sleeps (what the capture test and a dump's reader expect to see)
  const boxReady = (): boolean => {
    if (box.pid === undefined) return true;
    const inBox = [...descendants([box.pid])].filter((p) => p !== box.pid);
    if (inBox.length < 3) return false;
    const comms = inBox.map((p) => {
      try {
        return readFileSync(`/proc/${p}/comm`, 'utf8').trim();
      } catch {
        return '';
      }
    });
    return comms.filter((c) => c === 'sh').length === 1 && comms.filter((c) => c === 'sleep').length === 2;
  };
  if (!(await waitFor(boxReady, 30000, 50))) process.stderr.write('capture: the unshare box did not become sh + 2 sleeps in 30 s; capturing as it is\n');
  const cleanup = async (): Promise<void> => {
    await spawned.stopAll();
    rmSync(tmp, { recursive: true, force: true });
    for (const d of cgroupDirs.reverse()) {
      for (let i = 0; i < 30; i++) {
        try {
          rmdirSync(d);
          break;
        } catch {
          await sleep(100);
        }
      }
    }
  };
  return { spawned, cleanup, cgroupDirs };
}

async function main(): Promise<void> {
  let args: Args | 'help';
  try {
    args = parseArgv(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`capture: ${escapeControl(e.message)}\nTry 'npm run capture -- --help' for more information.\n`);
    process.exitCode = 1;
    return;
  }
  if (args === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  checkOut(args.out);
  rmSync(args.out, { recursive: true, force: true });
  mkdirSync(args.out, { recursive: true });
  const made = args.makeNamespaces ? await makeNamespaces() : undefined;
  try {
    const pids = args.pids === 'all' ? readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number) : [...new Set([...args.pids, process.pid, ...(made ? made.spawned.tree() : [])])];
    const own = made ? made.spawned.tree() : new Set<number>();
    for (const pid of pids) if (existsSync(`/proc/${pid}`)) capturePid(args.out, pid, args.pids !== 'all' || own.has(pid), own.has(pid));
    symlinkSync(String(process.pid), join(args.out, 'proc', 'self'));
    copyFile('/proc/sys/kernel/cap_last_cap', join(args.out, 'proc/sys/kernel/cap_last_cap'), 'proc/sys/kernel/cap_last_cap');
    copyFile('/proc/cgroups', join(args.out, 'proc/cgroups'), 'proc/cgroups');
    // the cgroup directories of every captured process, and each hierarchy's root
    const layout = detectCgroupLayout(parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')));
    const dirs = new Set<string>();
    for (const h of layout.hierarchies) {
      const r = cgroupSysRel(h, h.root);
      if (r) dirs.add(r);
    }
    for (const pid of pids) {
      try {
        // by its bytes: a cgroup directory named with a byte that is not UTF-8 is captured under its own name
        for (const line of parseProcCgroupBytes(readFileSync(`/proc/${pid}/cgroup`))) {
          const h = hierarchyFor(layout, line);
          const rel = h && cgroupSysRel(h, line.path);
          if (rel) dirs.add(rel);
        }
      } catch {
        /* gone or denied: recorded by capturePid */
      }
    }
    for (const d of dirs) captureCgroupDir(args.out, d);
    // what runtimes leave on disk, for container names (env values redacted)
    for (const n of captureRuntimeFiles(args.out, new Set(pids))) process.stderr.write(`capture: ${escapeControl(n)}\n`);
    // user names only (no hashes live in passwd, but keep just name:x:uid:gid)
    const passwd = readFileSync('/etc/passwd', 'utf8').split('\n').filter(Boolean).map((l) => l.split(':').slice(0, 4).join(':') + ':::');
    mkdirSync(join(args.out, 'etc'), { recursive: true });
    writeFileSync(join(args.out, 'etc/passwd'), `${passwd.join('\n')}\n`);
    const manifest = {
      name: args.out.split('/').pop(),
      description: args.description,
      capturedAt: new Date().toISOString().slice(0, 10),
      kernel: release(),
      cgroupMode: layout.mode,
      nsfsDev: statSync('/proc/self/ns/net').dev,
      selfPid: process.pid,
      madeByCapture: [...own].sort((a, b) => a - b),
      redacted: `environ of processes the capture did not start is not captured (EREDACTED); of its own, values except ${[...KEEP_ENV].join(', ')}; with --all, arguments of command lines it did not start`,
    };
    writeFileSync(join(args.out, 'MANIFEST.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(join(args.out, 'errors.json'), `${JSON.stringify(Object.fromEntries(Object.entries(errors).sort()), null, 2)}\n`);
  } finally {
    if (made) await made.cleanup();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`capture: ${escapeControl((e as Error).message)}\n`);
  process.exitCode = 1;
});
