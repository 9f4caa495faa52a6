import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryProcSource, openSource } from '../../src/source/source.js';
import { ProcError } from '../../src/source/errors.js';
import { loadNative } from '../../src/native/index.js';
import { HOSTS_DIR } from '../helpers/fixtures.js';

/**
 * ProcSource.readTexts: many files in one call (natively on the threadpool for the live host),
 * each giving exactly what readSysText / readProcText gives for it: the text, or the same error.
 */
type Binding = { readFiles(root: string, names: string, count: number, cap: number, regularOnly: boolean): Promise<{ data: ArrayBuffer; ends: ArrayBuffer; codes: ArrayBuffer }> };
const native = loadNative() as unknown as Binding | undefined;
const dir = mkdtempSync(join(tmpdir(), `read-texts-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function one(read: () => string): string | { code: string; message: string } {
  try {
    return read();
  } catch (e) {
    if (!(e instanceof ProcError)) throw e;
    return { code: e.code, message: e.message };
  }
}

const shape = (x: string | ProcError): string | { code: string; message: string } => (typeof x === 'string' ? x : { code: x.code, message: x.message });

describe('readTexts', () => {
  it('live /sys: each file as readSysText reads it (texts, missing files, paths that leave /sys)', async () => {
    const src = openSource();
    const rels = [
      'fs/cgroup/memory/memory.limit_in_bytes',
      'fs/cgroup/pids/pids.max',
      'fs/cgroup/cpu/cpu.shares',
      'kernel/mm/transparent_hugepage/enabled',
      'fs/cgroup/memory/no-such-file',
      '../etc/passwd',
      '/etc/passwd',
      'fs/cgroup/cpu/../../../../etc/hostname',
      'fs/cgroup/memory',
    ];
    const got = (await src.readTexts('sys', rels)).map(shape);
    expect(got).toEqual(rels.map((r) => one(() => src.readSysText(r))));
    // something was read, something refused: the comparison is not between two empty lists
    expect(got.filter((g) => typeof g === 'string').length).toBeGreaterThan(1);
    expect(got.filter((g) => typeof g !== 'string').length).toBeGreaterThan(2);
  });

  it('live /proc: each file as readProcText reads it, a process gone included', async () => {
    const src = openSource();
    const rels = [`${process.pid}/stat`, `${process.pid}/net/dev`, 'self/status', 'uptime', '999999999/stat', `${process.pid}/fd/0`];
    const got = (await src.readTexts('proc', rels)).map(shape);
    const want = rels.map((r) => one(() => src.readProcText(r)));
    // stat and status move between two reads: compare what does not
    for (let i = 0; i < rels.length; i++) {
      if (typeof want[i] === 'string') {
        expect(typeof got[i]).toBe('string');
        if (rels[i]!.endsWith('net/dev')) expect(got[i]).toEqual(want[i]);
        if (rels[i]!.endsWith('/stat')) expect((got[i] as string).split(' ')[0]).toBe(String(process.pid));
      } else expect(got[i]).toEqual(want[i]);
    }
  });

  it('live: thousands of files in one call come back in order (read in chunks)', async () => {
    const src = openSource();
    const rels = Array.from({ length: 5000 }, (_, i) => (i % 3 === 0 ? 'fs/cgroup/pids/pids.max' : i % 3 === 1 ? 'kernel/mm/transparent_hugepage/enabled' : `fs/cgroup/missing-${i}`));
    const got = await src.readTexts('sys', rels);
    const want = rels.slice(0, 3).map((r) => one(() => src.readSysText(r)));
    for (let i = 0; i < rels.length; i++) {
      if (i % 3 === 2) expect(shape(got[i]!)).toEqual({ code: 'NOT_FOUND', message: `cannot read /sys/fs/cgroup/missing-${i}: No such file or directory` });
      else expect(shape(got[i]!)).toEqual(want[i % 3]);
    }
  });

  it('a dump: one file at a time, the same answers as readSysText, injected errors included', async () => {
    const root = join(HOSTS_DIR, 'vm-hybrid-v1');
    const src = new DirectoryProcSource({ procRoot: join(root, 'proc'), sysRoot: join(root, 'sys') });
    const rels = ['fs/cgroup/memory/memory.limit_in_bytes', 'fs/cgroup/nothing', '../../etc/passwd'];
    expect((await src.readTexts('sys', rels)).map(shape)).toEqual(rels.map((r) => one(() => src.readSysText(r))));
  });

  it.skipIf(!native)('native readFiles: beneath its root only, no FIFO, no device, bounded', async () => {
    const root = join(dir, 'root');
    mkdirSync(root);
    writeFileSync(join(root, 'a'), 'alpha\n');
    writeFileSync(join(root, 'big'), 'x'.repeat(5000));
    symlinkSync('/etc/hostname', join(root, 'out'));
    symlinkSync('a', join(root, 'in'));
    execFileSync('mkfifo', [join(root, 'fifo')]);
    symlinkSync('/dev/zero', join(root, 'zero'));
    const names = ['a', 'big', 'out', 'in', 'fifo', 'zero', '../etc/hostname', 'missing'];
    const r = await native!.readFiles(root, `${names.join('\0')}\0`, names.length, 4096, true);
    const codes = [...new Int32Array(r.codes)];
    const ends = [...new Int32Array(r.ends)];
    const { errno } = (await import('node:os')).constants;
    expect(codes).toEqual([0, -2, errno.EXDEV, 0, -1, errno.EXDEV, errno.EXDEV, errno.ENOENT]);
    const data = Buffer.from(r.data).toString();
    expect(data.slice(0, ends[0])).toBe('alpha\n');
    expect(data.slice(ends[2], ends[3])).toBe('alpha\n');
    expect(ends[ends.length - 1]).toBe(12);
    // without the regular-file check a FIFO opened O_NONBLOCK with no writer reads as empty: no hang
    const f = await native!.readFiles(root, 'fifo\0', 1, 4096, false);
    expect([...new Int32Array(f.codes)]).toEqual([0]);
  });

  it.skipIf(!native)('native readFiles refuses malformed arguments with one error, no crash', () => {
    expect(() => native!.readFiles('/sys', 'a\0\0', 2, 4096, true)).toThrow(/non-empty paths/);
    expect(() => native!.readFiles('/sys', 'a', 1, 4096, true)).toThrow(/non-empty paths/);
    expect(() => native!.readFiles('/sys', 'a\0', 1, 1 << 30, true)).toThrow(/cap at most/);
    expect(() => native!.readFiles('/sys', 'a\0', 1e6, 4096, true)).toThrow(/count at most/);
  });
});

describe('readTexts where the kernel refuses openat2', () => {
  // docker's default seccomp profile and systemd-nspawn refuse openat2 with EPERM; kernels before
  // 5.6 lack it (ENOSYS): the batch must not turn that into "permission denied" for every file
  const strace = (() => {
    try {
      execFileSync('strace', ['-V'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!strace || !native)('EPERM or ENOSYS from openat2: every file read one at a time, the same answers', () => {
    const script = join(dir, 'refused.mjs');
    writeFileSync(
      script,
      `import { openSource } from ${JSON.stringify(join(process.cwd(), 'dist/src/source/source.js'))};
const src = openSource();
const rels = ['fs/cgroup/pids/pids.max', 'kernel/mm/transparent_hugepage/enabled', 'fs/cgroup/missing'];
const a = (await src.readTexts('sys', rels)).map((x) => (typeof x === 'string' ? x : x.code));
const b = (await src.readTexts('proc', ['self/stat', 'uptime'])).map((x) => (typeof x === 'string' ? 'text' : x.code));
const want = rels.map((r) => { try { return src.readSysText(r); } catch (e) { return e.code; } });
console.log(JSON.stringify({ same: JSON.stringify(a) === JSON.stringify(want), a, b }));
`,
    );
    for (const err of ['EPERM', 'ENOSYS']) {
      const out = execFileSync('strace', ['-f', '-qq', '-o', '/dev/null', '-e', `inject=openat2:error=${err}`, process.execPath, script], { encoding: 'utf8' });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { same: boolean; a: string[]; b: string[] };
      expect(r.same, `${err}: ${JSON.stringify(r.a)}`).toBe(true);
      expect(r.a[2]).toBe('NOT_FOUND');
      expect(r.b).toEqual(['text', 'text']);
    }
  });
});
