/**
 * A recording is hostile input: its CRCs prove a frame intact, not that ctop wrote it. Frames
 * whose checksum holds but whose JSON is not a ctop sample (wrong types, out-of-range numbers, an
 * unknown sample version, prototype keys, a delta nested without end) are refused with one line
 * naming the frame and the field, exit 1 — never a TypeError ("internal error") from the renderer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, crc32 } from 'node:zlib';
import { ctopMain } from '../../cli/ctop.js';
import { captureDeps } from '../helpers/fixtures.js';
import { recordingFrom } from '../../tui/record/replay.js';
import { DELTA_HEADER, DELTA_MAGIC, encodeFrame, FILE_MAGIC, FRAME_HEADER, FRAME_MAGIC } from '../../tui/record/format.js';
import { checkSample } from '../../tui/record/check.js';
import { fixtureSamples } from './helpers.js';
import type { Sample } from '../../tui/sample.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** a frame of any JSON with a good CRC (what an attacker can write): a key frame, or a delta with `base` */
function frameOf(json: string, wallMs: number, base?: number): Buffer {
  const z = brotliCompressSync(Buffer.from(json));
  const h = Buffer.alloc(base === undefined ? FRAME_HEADER : DELTA_HEADER);
  (base === undefined ? FRAME_MAGIC : DELTA_MAGIC).copy(h, 0);
  h.writeUInt32LE(z.length, 4);
  h.writeUInt32LE(crc32(z), 8);
  h.writeDoubleLE(wallMs, 12);
  if (base !== undefined) h.writeDoubleLE(base, 20);
  return Buffer.concat([h, z]);
}
const keyFrame = (json: string, wallMs: number): Buffer => frameOf(json, wallMs);
const deltaFrame = (json: string, wallMs: number, base: number): Buffer => frameOf(json, wallMs, base);

const file = (...frames: Buffer[]): Buffer => Buffer.concat([Buffer.from(FILE_MAGIC, 'latin1'), ...frames]);

/** a real sample (from a fixture host), changed by `edit` */
function sample(edit: (s: Record<string, any>) => void = () => {}, wallMs = 1000): Sample {
  const s = structuredClone(fixtureSamples('v2-docker-systemd').cur) as unknown as Record<string, any>;
  s.wallMs = wallMs;
  edit(s);
  return s as unknown as Sample;
}

async function replayOnce(buf: Buffer): Promise<{ code: number; out: string; err: string }> {
  const dir = mkdtempSync(join(tmpdir(), `ctop-hostile-rec-${process.pid}-`));
  dirs.push(dir);
  const f = join(dir, 'rec.ctop');
  writeFileSync(f, buf);
  const deps = captureDeps();
  const code = await ctopMain(['--replay', f, '--once'], deps);
  return { code, out: deps.out(), err: deps.err().replace(f, 'FILE') };
}

describe('ctop --replay of frames that are intact but not ctop samples', () => {
  it('a real sample passes the check unchanged (the recorder writes what the checker accepts)', () => {
    const { prev, cur } = fixtureSamples('v2-docker-systemd');
    for (const s of [prev, cur]) expect(checkSample(JSON.parse(JSON.stringify(s)))).toEqual(JSON.parse(JSON.stringify(s)));
  });

  const cases: [string, string, RegExp][] = [
    ['procs is a number', JSON.stringify(sample((s) => (s.procs = 5))), /sample\.procs: not a list$/],
    ['an empty object (no version)', '{}', /sample\.v: version undefined; this ctop reads version 1$/],
    ['a newer sample version', JSON.stringify(sample((s) => (s.v = 99))), /sample\.v: version 99; this ctop reads version 1$/],
    ['a pid that is a string', JSON.stringify(sample((s) => (s.procs[0].pid = 'x'))), /sample\.procs\[0\]\.pid: not a finite number$/],
    ['a pid past the kernel limit', JSON.stringify(sample((s) => (s.procs[0].pid = 2 ** 40))), /sample\.procs\[0\]\.pid: \d+ out of range$/],
    ['a negative tick count', JSON.stringify(sample((s) => (s.procs[1].ticks = -1))), /sample\.procs\[1\]\.ticks: -1 out of range$/],
    ['a counter past 2^53 (would lose its units)', JSON.stringify(sample((s) => (s.procs[1].rssBytes = 1e300))), /sample\.procs\[1\]\.rssBytes: 1e\+300 out of range$/],
    ['a comm that is an object', JSON.stringify(sample((s) => (s.procs[0].comm = { a: 1 }))), /sample\.procs\[0\]\.comm: not a string$/],
    ['a command line of a megabyte', JSON.stringify(sample((s) => (s.procs[0].cmd = 'x'.repeat(1 << 20)))), /sample\.procs\[0\]\.cmd: longer than 4096 characters$/],
    ['an unknown namespace type', JSON.stringify(sample((s) => (s.procs[0].ns = { bogus: 1 }))), /sample\.procs\[0\]\.ns: unknown namespace type "bogus"$/],
    ['a container without a key', JSON.stringify(sample((s) => (s.containers = [{}]))), /sample\.containers\[0\]\.key: not a string$/],
    ['a __proto__ cgroup key', JSON.stringify(sample()).replace('"cgroups":{', '"cgroups":{"__proto__":{"errors":{}},'), /sample\.cgroups: the key "__proto__"$/],
    ['a cgroup whose cpu usage is text', JSON.stringify(sample((s) => (Object.values(s.cgroups).find((c: any) => c.cpu) as any).cpu.usageUsec = 'lots')), /\.cpu\.usageUsec: not a finite number$/],
    ['a wall time Date cannot show', JSON.stringify(sample((s) => (s.wallMs = 1e300))), /sample\.wallMs: 1e\+300 out of range$/],
  ];
  for (const [what, json, field] of cases) {
    it(`${what}: one line naming the frame and the field, exit 1`, async () => {
      const r = await replayOnce(file(keyFrame(json, 1000)));
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err.split('\n')).toHaveLength(2);
      expect(r.err).toMatch(/^ctop: FILE: the frame at byte 29 is not a ctop sample: /);
      expect(r.err.trimEnd()).toMatch(field);
    });
  }

  it('deltas: a "gone" that is not a list, a bad pid in "upd", diffs nested without end, a prototype key removed', async () => {
    const key = encodeFrame(sample());
    // 10,000 levels, written by hand (JSON.stringify itself would run out of stack)
    const deep = '{"n":{"k":'.repeat(10_000) + '{"s":{"a":1}}' + '}}'.repeat(10_000);
    const bad: [string, RegExp][] = [
      [JSON.stringify({ d: 2, base: 1000, add: [], upd: [], gone: 7 }), /delta\.gone: not a list$/],
      [JSON.stringify({ d: 2, base: 1000, add: [], upd: [[-3, {}]], gone: [] }), /delta\.upd\[0\]\[0\]: -3 out of range$/],
      [`{"d":2,"base":1000,"s":${deep},"add":[],"upd":[],"gone":[]}`, /nested deeper than 8$/],
      [JSON.stringify({ d: 2, base: 1000, s: { x: ['__proto__'] }, add: [], upd: [], gone: [] }), /delta\.s\.x\[0\]: a prototype key$/],
      [JSON.stringify({ d: 3, base: 1000, gone: [] }), /delta\.d: format 3 unknown$/],
      // a delta that sets a field of the sample to garbage: caught on the sample it gives back
      [JSON.stringify({ d: 2, base: 1000, s: { s: { ncpu: 'many' } }, add: [], upd: [], gone: [] }), /sample\.ncpu: not a finite number$/],
    ];
    for (const [json, field] of bad) {
      const r = await replayOnce(file(key, deltaFrame(json, 2000, 1000)));
      expect(r.code, json.slice(0, 80)).toBe(1);
      expect(r.err).toMatch(/^ctop: FILE: the frame at byte \d+ is not a ctop sample: /);
      expect(r.err.trimEnd()).toMatch(field);
    }
  });

  it('an earlier refused frame leaves a gap in the history; the frame asked for is refused aloud', () => {
    const good1 = encodeFrame(sample(() => {}, 1000));
    const bad = keyFrame(JSON.stringify(sample((s) => (s.procs = 'x'), 2000)), 2000);
    const good3 = encodeFrame(sample(() => {}, 3000));
    const r = recordingFrom(file(good1, bad, good3), 'rec.ctop');
    expect(r.count).toBe(3);
    expect(r.window(2, 3).map((s) => s.wallMs)).toEqual([1000, 3000]);
    expect(() => r.window(1, 3)).toThrow(/the frame at byte \d+ is not a ctop sample: sample\.procs: not a list/);
  });

  it('control bytes in a recorded name reach the screen escaped, as on a live host', async () => {
    const s = sample((x) => {
      x.procs[0].comm = 'ev\x1b]0;pwn\x07il';
      if (x.containers[0]) x.containers[0].name = 'c\x1b[2Jx';
    });
    const r = await replayOnce(file(encodeFrame(s)));
    expect(r.code).toBe(0);
    expect(r.out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(r.out).toContain('c\\x1b[2Jx');
  });
});

describe('ctop --replay / --record of files that are not recordings', () => {
  const R = ['--proc-root', 'fixtures/hosts/v2-docker-systemd/proc', '--sys-root', 'fixtures/hosts/v2-docker-systemd/sys'];
  async function ctop(args: string[]): Promise<{ code: number; out: string; err: string }> {
    const deps = captureDeps();
    const code = await ctopMain(args, deps);
    return { code, out: deps.out(), err: deps.err() };
  }

  it('a FIFO as the recording: refused at once (it blocked both for good), exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), `ctop-fifo-rec-${process.pid}-`));
    dirs.push(dir);
    const f = join(dir, 'f');
    expect(spawnSync('mkfifo', [f]).status).toBe(0);
    expect(await ctop(['--replay', f, '--once'])).toEqual({ code: 1, out: '', err: `ctop: ${f}: not a regular file, not a ctop recording\n` });
    expect(await ctop([...R, '--record', f, '--once'])).toEqual({ code: 1, out: '', err: `ctop: cannot record to ${f}: not a regular file\n` });
  });

  it('/dev/zero to replay (it read without end, 1.2 GB in 15 s) and /dev/full to record to: refused, exit 1', async () => {
    expect(await ctop(['--replay', '/dev/zero', '--once'])).toEqual({ code: 1, out: '', err: 'ctop: /dev/zero: not a regular file, not a ctop recording\n' });
    expect(await ctop([...R, '--record', '/dev/full', '-n', '1'])).toEqual({ code: 1, out: '', err: 'ctop: cannot record to /dev/full: not a regular file\n' });
  });

  it('a recording larger than 1 GiB (sparse) is refused by its size, not read', async () => {
    const dir = mkdtempSync(join(tmpdir(), `ctop-big-rec-${process.pid}-`));
    dirs.push(dir);
    const f = join(dir, 'big');
    writeFileSync(f, '');
    truncateSync(f, 3 * 1024 ** 3);
    expect(await ctop(['--replay', f, '--once'])).toEqual({ code: 1, out: '', err: `ctop: ${f}: 3221225472 bytes, more than the 1 GiB ctop replays\n` });
  });

  it('a write that fails (EIO from /proc/version, as a full disk would) is one line, exit 1 — not "internal error"; the recorder closes', async () => {
    const r = await ctop([...R, '--record', '/proc/version', '-n', '1']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    // as root the open succeeds and the write fails; otherwise the open is refused
    expect(r.err).toMatch(/^ctop: cannot (write to \/proc\/version: Input\/output error; the recording stops here|record to \/proc\/version: Permission denied)\n$/);
  });
});

describe('a sample that repeats a pid', () => {
  it('is refused (the process tree would loop on it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), `ctop-duppid-${process.pid}-`));
    dirs.push(dir);
    const f = join(dir, 'rec.ctop');
    writeFileSync(f, file(keyFrame(JSON.stringify(sample((s) => s.procs.push({ ...s.procs[1], ppid: s.procs[2].pid }))), 1000)));
    const deps = captureDeps();
    expect(await ctopMain(['--replay', f, '--once'], deps)).toBe(1);
    expect(deps.err()).toMatch(/: sample\.procs\[\d+\]\.pid: \d+ given twice\n$/);
  });
});
