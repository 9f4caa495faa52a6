import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { openRecorder } from '../../tui/record/record.js';
import { ctopMain } from '../../cli/ctop.js';
import { captureDeps, rootArgs } from '../helpers/fixtures.js';
import { openRecording, recordingFrom } from '../../tui/record/replay.js';
import { applyDiff, diffOf, FILE_MAGIC, FILE_MAGIC_V1, FRAME_HEADER, KEY_EVERY, type DeltaV2 } from '../../tui/record/format.js';
import { brotliCompressSync, crc32 } from 'node:zlib';
import { initialState, reduce } from '../../tui/store.js';
import { buildFrame } from '../../tui/frame.js';
import { Chalk } from 'chalk';
import { fixtureSamples } from './helpers.js';
import type { Sample } from '../../tui/sample.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function record(n: number): { file: string; samples: Sample[]; sizes: number[] } {
  const dir = mkdtempSync(join(tmpdir(), `ctop-rec-${process.pid}-`));
  dirs.push(dir);
  const file = join(dir, 'rec.ctop');
  const { prev, cur } = fixtureSamples('v2-docker-systemd');
  const samples: Sample[] = [];
  const rec = openRecorder(file);
  const sizes: number[] = [rec.bytes];
  for (let i = 0; i < n; i++) {
    const s = structuredClone(i % 2 ? cur : prev);
    s.endMs = 1000 * (i + 1);
    s.wallMs = 5000 * (i + 1);
    samples.push(s);
    rec.append(s);
    sizes.push(rec.bytes);
  }
  rec.close();
  return { file, samples, sizes };
}

describe('ctop record → replay', () => {
  it('replays exactly what was recorded (raw counters, not rates)', () => {
    const { file, samples } = record(4);
    const r = openRecording(file);
    expect(r.problem).toBeUndefined();
    expect(r.count).toBe(4);
    expect(r.get(2)).toEqual(samples[2]);
    expect(r.frames.map((f) => f.wallMs)).toEqual([5000, 10_000, 15_000, 20_000]);
    expect(r.indexAt(12_000)).toBe(1);
  });

  it('a corrupt frame in the middle costs that frame only, and says where', () => {
    const { file, samples, sizes } = record(4);
    const buf = readFileSync(file);
    // flip a byte inside the payload of frame 2 (index 1)
    buf[sizes[1]! + FRAME_HEADER + 5] ^= 0xff;
    const r = recordingFrom(buf, 'rec.ctop');
    expect(r.count).toBe(3);
    expect([r.get(0), r.get(1), r.get(2)].map((s) => s.wallMs)).toEqual([samples[0]!.wallMs, samples[2]!.wallMs, samples[3]!.wallMs]);
    expect(r.problem).toBe(`rec.ctop: 1 damaged frame skipped (first at byte ${sizes[1]})`);
  });

  it('a torn write at the end (truncated file) keeps every frame before it', () => {
    const { file, sizes } = record(3);
    const buf = readFileSync(file);
    writeFileSync(file, buf.subarray(0, sizes[2]! + 30));
    const r = openRecording(file);
    expect(r.count).toBe(2);
    expect(r.problem).toBe(`${file}: truncated at byte ${sizes[2]}: replaying the 2 intact samples before it`);
  });

  it('a damaged length field: the reader finds the next frame by its magic', () => {
    const { file, sizes } = record(3);
    const buf = readFileSync(file);
    buf.writeUInt32LE(0x7fffffff, sizes[0]! + 4);
    const r = recordingFrom(buf, 'x');
    expect(r.count).toBe(2);
    expect(r.problem).toMatch(/1 damaged frame skipped/);
  });

  it('not a recording at all', () => {
    const r = recordingFrom(Buffer.from('hello'), 'notes.txt');
    expect(r.count).toBe(0);
    expect(r.problem).toBe('notes.txt: not a ctop recording');
  });

  it('the replayed screen is the screen the live view drew from the same samples', () => {
    const { file, samples } = record(2);
    const chalk = new Chalk({ level: 0 });
    const live = reduce(reduce(initialState({ cols: 100, rows: 20 }), { type: 'sample', sample: samples[0]! }), { type: 'sample', sample: samples[1]! });
    const r = openRecording(file);
    const replayed = reduce(initialState({ cols: 100, rows: 20 }), { type: 'replaceHistory', history: r.window(1, 30), replay: { index: 1, total: 2, times: [] } });
    const strip = (f: ReturnType<typeof buildFrame>): string[] => [f.columns, ...f.rows.map((x) => x.text)];
    expect(strip(buildFrame(replayed, chalk))).toEqual(strip(buildFrame(live, chalk)));
  });

  it('starts with the file header', () => {
    const { file } = record(1);
    expect(readFileSync(file).subarray(0, FILE_MAGIC.length).toString('latin1')).toBe(FILE_MAGIC);
  });
});

/** `n` samples of a quiet host: the fixture's, with one process's counters moving each time */
function recordQuiet(n: number): { file: string; samples: Sample[]; sizes: number[] } {
  const dir = mkdtempSync(join(tmpdir(), `ctop-recq-${process.pid}-`));
  dirs.push(dir);
  const file = join(dir, 'rec.ctop');
  const { cur } = fixtureSamples('v2-docker-systemd');
  const samples: Sample[] = [];
  const rec = openRecorder(file);
  const sizes: number[] = [rec.bytes];
  let last = structuredClone(cur);
  last.procs.sort((a, b) => a.pid - b.pid);
  for (let i = 0; i < n; i++) {
    // unchanged processes keep their objects (as sampleFromModel does); one changes; one comes and goes
    const s: Sample = { ...structuredClone({ ...last, procs: [] }), procs: last.procs.map((p) => p) };
    const k = 1;
    s.procs[k] = { ...s.procs[k]!, ticks: s.procs[k]!.ticks + 7 * (i + 1) };
    if (i % 3 === 1) s.procs = s.procs.filter((p) => p.pid !== 99_999);
    else if (!s.procs.some((p) => p.pid === 99_999)) s.procs = [...s.procs, { ...s.procs[0]!, pid: 99_999, start: 123 }];
    s.endMs = 1000 * (i + 1);
    s.wallMs = 5000 * (i + 1);
    samples.push(s);
    rec.append(s);
    sizes.push(rec.bytes);
    last = s;
  }
  rec.close();
  return { file, samples, sizes };
}

describe('ctop recording: delta frames against a key frame', () => {
  it('a quiet host is recorded as deltas and replays exactly (processes in pid order)', () => {
    const { file, samples } = recordQuiet(8);
    const buf = readFileSync(file);
    const r = recordingFrom(buf, 'q');
    expect(r.problem).toBeUndefined();
    expect(r.count).toBe(8);
    expect(r.frames.filter((f) => f.keyIndex !== undefined).length).toBe(7);
    for (let i = 0; i < 8; i++) expect(r.get(i), `frame ${i}`).toEqual({ ...samples[i]!, procs: [...samples[i]!.procs].sort((a, b) => a.pid - b.pid) });
    // every delta holds only what moved (the changed process, the one that came), so it is smaller
    const key = r.frames[0]!.length;
    for (const f of r.frames.slice(1)) expect(f.length).toBeLessThan(key);
    const raw = (i: number) => JSON.parse(brotliDecompressSync(buf.subarray(r.frames[i]!.offset, r.frames[i]!.offset + r.frames[i]!.length)).toString()) as DeltaV2;
    // frame 1: pid 99999 has gone since the key frame, the moving process is its ticks only
    const d = raw(1);
    expect(d.d).toBe(2);
    expect(d.base).toBe(samples[0]!.wallMs);
    expect(d.add).toEqual([]);
    expect(d.gone).toEqual([99_999]);
    const moving = [...samples[1]!.procs][1]!;
    expect(d.upd).toEqual([[moving.pid, { s: { ticks: moving.ticks } }]]);
    // the sample's other fields: only what changed (times), not the cgroups' paths or the containers
    expect(Object.keys(d.s?.s ?? {}).sort()).toEqual(['endMs', 'wallMs']);
    expect(d.s?.n).toBeUndefined();
  });

  it(`a key frame at least every ${KEY_EVERY} frames`, () => {
    const { file } = recordQuiet(KEY_EVERY + 3);
    const r = openRecording(file);
    expect(r.frames.map((f, i) => (f.keyIndex === undefined ? i : -1)).filter((i) => i >= 0)).toEqual([0, KEY_EVERY]);
  });

  it('a damaged key frame takes its deltas with it and says so; the next key frame and its deltas replay', () => {
    const { file, samples, sizes } = recordQuiet(KEY_EVERY + 3);
    const buf = readFileSync(file);
    buf[sizes[0]! + FRAME_HEADER + 9] ^= 0xff;
    const r = recordingFrom(buf, 'rec.ctop');
    expect(r.count).toBe(3);
    expect(r.problem).toBe(`rec.ctop: 1 damaged frame skipped (first at byte ${sizes[0]}); ${KEY_EVERY - 1} frames skipped with their damaged key frame`);
    expect(r.get(0).wallMs).toBe(samples[KEY_EVERY]!.wallMs);
    expect(r.get(2).procs.length).toBe(samples[KEY_EVERY + 2]!.procs.length);
  });

  it('a damaged delta costs that frame only; a torn delta at the end only itself', () => {
    const { file, sizes } = recordQuiet(5);
    const buf = readFileSync(file);
    buf[sizes[2]! + 30] ^= 0xff;
    const r = recordingFrom(buf, 'x');
    expect(r.count).toBe(4);
    expect(r.problem).toBe(`x: 1 damaged frame skipped (first at byte ${sizes[2]})`);
    const torn = recordingFrom(readFileSync(file).subarray(0, sizes[4]! + 25), 'y');
    expect(torn.count).toBe(4);
    expect(torn.problem).toBe(`y: truncated at byte ${sizes[4]}: replaying the 4 intact samples before it`);
  });
});

/**
 * A recording in the first format (CTOPREC1, written by older ctop: a delta holds its changed
 * processes whole), built frame by frame as that version wrote it.
 */
function v1Recording(samples: Sample[]): Buffer {
  const frame = (magic: string, payload: object, wall: number, base?: number): Buffer => {
    const z = brotliCompressSync(Buffer.from(JSON.stringify(payload)));
    const h = Buffer.alloc(base === undefined ? 20 : 28);
    h.write(magic, 0, 'latin1');
    h.writeUInt32LE(z.length, 4);
    h.writeUInt32LE(crc32(z), 8);
    h.writeDoubleLE(wall, 12);
    if (base !== undefined) h.writeDoubleLE(base, 20);
    return Buffer.concat([h, z]);
  };
  const key = samples[0]!;
  const keyBy = new Map(key.procs.map((p) => [p.pid, JSON.stringify(p)]));
  const parts = [Buffer.from(FILE_MAGIC_V1, 'latin1'), frame('CTFR', key, key.wallMs)];
  for (const s of samples.slice(1)) {
    const here = new Set(s.procs.map((p) => p.pid));
    const procs = s.procs.filter((p) => keyBy.get(p.pid) !== JSON.stringify(p));
    const gone = key.procs.filter((p) => !here.has(p.pid)).map((p) => p.pid);
    parts.push(frame('CTFD', { ...s, procs, base: key.wallMs, gone }, s.wallMs, key.wallMs));
  }
  return Buffer.concat(parts);
}

describe('ctop recording formats', () => {
  it('a CTOPREC1 recording (older ctop) still replays exactly', () => {
    const { samples } = recordQuiet(5);
    const r = recordingFrom(v1Recording(samples), 'old.ctop');
    expect(r.problem).toBeUndefined();
    expect(r.count).toBe(5);
    for (let i = 0; i < 5; i++) expect(r.get(i), `frame ${i}`).toEqual({ ...samples[i]!, procs: [...samples[i]!.procs].sort((a, b) => a.pid - b.pid) });
  });

  it('--record refuses to add to a CTOPREC1 recording or to a file that is not a recording, and leaves it as it was', () => {
    const dir = mkdtempSync(join(tmpdir(), `ctop-recv-${process.pid}-`));
    dirs.push(dir);
    const { samples } = recordQuiet(2);
    const old = join(dir, 'old.ctop');
    const v1 = v1Recording(samples);
    writeFileSync(old, v1);
    expect(() => openRecorder(old)).toThrow(`${old}: a recording in the older format (CTOPREC1): ctop replays it but does not add to it; record to a new file`);
    expect(readFileSync(old).equals(v1)).toBe(true);
    const notes = join(dir, 'notes.txt');
    writeFileSync(notes, 'my notes\n');
    expect(() => openRecorder(notes)).toThrow(`${notes}: not a ctop recording; not appending to it`);
    expect(readFileSync(notes, 'utf8')).toBe('my notes\n');
  });

  it('a recording in a newer format than this ctop reads says so', () => {
    const r = recordingFrom(Buffer.from('CTOPREC9\nCTFR....', 'latin1'), 'new.ctop');
    expect(r.count).toBe(0);
    expect(r.problem).toBe('new.ctop: a ctop recording in a newer format (CTOPREC9) than this ctop reads');
  });

  it('the JSON diff of a delta: set, nested and removed keys round-trip; undefined counts as absent', () => {
    const a = { x: 1, y: { p: 1, q: [1, 2] }, z: 'gone', u: undefined, keep: { k: 1 } };
    const b = { x: 2, y: { p: 1, q: [1, 3] }, w: 'new', u: undefined, keep: { k: 1 } };
    const d = diffOf(a, b)!;
    expect(d).toEqual({ s: { x: 2, w: 'new' }, n: { y: { s: { q: [1, 3] } } }, x: ['z'] });
    expect(JSON.parse(JSON.stringify(applyDiff(a, d)))).toEqual(JSON.parse(JSON.stringify(b)));
    expect(diffOf(b, { ...b })).toBeUndefined();
  });
});

describe('ctop --record FILE of an older recording (the command)', () => {
  it('exits 1 with one line naming the file and the format, and leaves the file as it was', async () => {
    const dir = mkdtempSync(join(tmpdir(), `ctop-recc-${process.pid}-`));
    dirs.push(dir);
    const old = join(dir, 'old.ctop');
    const v1 = v1Recording(recordQuiet(2).samples);
    writeFileSync(old, v1);
    const deps = captureDeps();
    const code = await ctopMain(['--once', '--record', old, ...rootArgs('v2-docker-systemd')], deps);
    expect(code).toBe(1);
    expect(deps.err()).toBe(`ctop: ${old}: a recording in the older format (CTOPREC1): ctop replays it but does not add to it; record to a new file\n`);
    expect(deps.out()).toBe('');
    expect(readFileSync(old).equals(v1)).toBe(true);
  });
});

describe('ctop --replay FILE --once (the command)', () => {
  it('the title says REPLAY n/N, never LIVE: a recording is not the host now', async () => {
    const { file } = record(3);
    const deps = captureDeps();
    const code = await ctopMain(['--replay', file, '--once'], deps);
    expect(deps.err()).toBe('');
    expect(code).toBe(0);
    const title = deps.out().split('\n')[0]!;
    expect(title).toMatch(/REPLAY 3\/3/);
    expect(title).not.toMatch(/LIVE/);
  });
});

describe('ctop --replay of a hostile recording (the command)', () => {
  it('a frame with a good checksum that decompresses past the bound (a brotli bomb) is refused: one line, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), `ctop-bomb-${process.pid}-`));
    dirs.push(dir);
    const file = join(dir, 'bomb.ctop');
    // 200 MiB of spaces compresses to a few hundred bytes
    const z = brotliCompressSync(Buffer.alloc(200 * 1024 * 1024, 0x20));
    const h = Buffer.alloc(FRAME_HEADER);
    h.write('CTFR', 0, 'latin1');
    h.writeUInt32LE(z.length, 4);
    h.writeUInt32LE(crc32(z), 8);
    h.writeDoubleLE(1000, 12);
    writeFileSync(file, Buffer.concat([Buffer.from(FILE_MAGIC, 'latin1'), h, z]));
    const deps = captureDeps();
    const code = await ctopMain(['--replay', file, '--once'], deps);
    expect(code).toBe(1);
    expect(deps.out()).toBe('');
    expect(deps.err()).toMatch(/^ctop: .*bomb\.ctop: the frame at byte \d+ is larger than \d+ bytes once decompressed: refused\n$/);
  });
});
