import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeBytes, encodeBytes } from '../../src/parse/text.js';
import { parseProcCgroupBytes } from '../../src/parse/proc-cgroup.js';
import { fsPath, readdirEntries, readdirNames } from '../../src/source/bounded.js';
import { DirectoryProcSource } from '../../src/source/source.js';
import { ProcError } from '../../src/source/errors.js';
import { escapeControl } from '../../src/render/escape.js';
import { parseMountInfo, unescapeOctal } from '../../src/parse/proc-mountinfo.js';
import { containerFromCgroupPath } from '../../src/model/cgroup-names.js';
import { readProcess } from '../../src/proc/process.js';
import { cleanupDumps, hostileDump, runCinfOn } from '../helpers/hostile.js';

/**
 * Paths from the kernel are bytes, not UTF-8 (issue 6, hostile input: a cgroup named `bad\xff`).
 * decodeBytes keeps a byte that is not UTF-8 as a lone surrogate U+DC80+byte; encodeBytes gives
 * the bytes back, so such a name is opened by its own bytes and never merged with another.
 */
const roundTrip = (b: Buffer): void => {
  const s = decodeBytes(b);
  expect(encodeBytes(s).equals(b), `${b.toString('hex')} → ${JSON.stringify(s)}`).toBe(true);
};

describe('decodeBytes / encodeBytes round trip', () => {
  it('every byte 0x80–0xFF alone, after ASCII, before ASCII, doubled: the same bytes back; each is one lone surrogate U+DC80+b', () => {
    for (let b = 0x80; b <= 0xff; b++) {
      const one = Buffer.from([b]);
      expect(decodeBytes(one)).toBe(String.fromCharCode(0xdc00 + b));
      for (const buf of [one, Buffer.from([0x78, b]), Buffer.from([b, 0x2f, 0x61]), Buffer.from([b, b]), Buffer.from([0x2f, b, 0x2f, b, 0x0a])]) roundTrip(buf);
    }
  });

  it('mixed valid and invalid UTF-8: truncated sequences, overlongs, encoded surrogates, beyond U+10FFFF, valid 2-, 3- and 4-byte characters', () => {
    const cases = [
      'e282', // € cut short
      'f09f92', // 💀 cut short
      'c0af', // overlong /
      'e080af', // overlong /
      'eda080', // U+D800 encoded (CESU)
      'edb0ff', // a low surrogate encoded, then 0xff
      'f4908080', // above U+10FFFF
      'c3a9ff', // é then 0xff
      'f09f9280dcff', // 💀 then bytes that look like a surrogate's half
      'efbfbd', // a real U+FFFD
      'efbfbdff', // a real U+FFFD then 0xff
      '2f646f636b65722fff2f78fe', // /docker/\xff/x\xfe
    ];
    for (const hex of cases) roundTrip(Buffer.from(hex, 'hex'));
    expect(decodeBytes(Buffer.from('c3a9ff', 'hex'))).toBe('é\udcff');
    expect(decodeBytes(Buffer.from('f09f9280ff', 'hex'))).toBe('💀\udcff');
    expect(decodeBytes(Buffer.from('efbfbd', 'hex'))).toBe('\ufffd'); // a real U+FFFD stays one
  });

  it('random byte strings (5,000, seeded): always the same bytes back', () => {
    let seed = 0x1234567;
    const next = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    for (let n = 0; n < 5000; n++) {
      const len = next() % 24;
      // biased towards the bytes of multi-byte UTF-8, so valid and invalid sequences mix
      roundTrip(Buffer.from(Array.from({ length: len }, () => (next() & 1 ? 0x80 | next() : next()))));
    }
  });

  it('two names that differ only in an invalid byte decode apart', () => {
    expect(decodeBytes(Buffer.from('78fe', 'hex'))).not.toBe(decodeBytes(Buffer.from('78ff', 'hex')));
    const a = parseProcCgroupBytes(Buffer.from('4:memory:/t/x\xfe\n', 'latin1'));
    const b = parseProcCgroupBytes(Buffer.from('4:memory:/t/x\xff\n', 'latin1'));
    expect(a[0]!.path).toBe('/t/x\udcfe');
    expect(b[0]!.path).toBe('/t/x\udcff');
    expect(escapeControl(b[0]!.path)).toBe('/t/x\\xff');
  });

  it('well-formed strings (surrogate pairs included) encode as UTF-8; a lone surrogate that stands for no byte is refused', () => {
    expect(encodeBytes('/sys/fs/cgroup/é💀').equals(Buffer.from('/sys/fs/cgroup/é💀', 'utf8'))).toBe(true);
    for (const s of ['x\ud800', 'x\ud83dy', 'x\udc00', 'x\udc7f', '\udbff']) expect(() => encodeBytes(s), JSON.stringify(s)).toThrow(RangeError);
    // a string spelling bytes that happen to be valid UTF-8 names those bytes (decodeBytes never makes one)
    expect(encodeBytes('\udcc3\udca9').equals(Buffer.from('é'))).toBe(true);
  });
});

describe('fsPath and readdir by bytes (src/source/bounded.ts)', () => {
  it('a well-formed path is handed to node:fs as the same string (no Buffer on the common path)', () => {
    const p = '/sys/fs/cgroup/memory/docker/abc/memory.stat';
    expect(fsPath(p)).toBe(p);
    expect(fsPath('/x/💀')).toBe('/x/💀');
    expect(fsPath('/x/\udcff')).toEqual(Buffer.from('/x/\xff', 'latin1'));
    expect(() => fsPath('/x/\ud800')).toThrow(ProcError);
  });

  it('a directory holding x<FE>, x<FF> and x<EF BF BD> (a real U+FFFD): three names, each opened by its own bytes', () => {
    const dir = mkdtempSync(join(tmpdir(), `hostscope-bytes-${process.pid}-`));
    try {
      const names = [Buffer.from('78fe', 'hex'), Buffer.from('78ff', 'hex'), Buffer.from('78efbfbd', 'hex'), Buffer.from('plain')];
      for (const [i, n] of names.entries()) {
        const d = Buffer.concat([Buffer.from(`${dir}/`), n]);
        mkdirSync(d);
        writeFileSync(Buffer.concat([d, Buffer.from('/memory.limit_in_bytes')]), `${i + 1}\n`);
      }
      const got = readdirEntries(dir).map((e) => e.name).sort();
      expect(got).toEqual(['plain', 'x\udcfe', 'x\udcff', 'x\ufffd'].sort());
      expect(readdirNames(dir).sort()).toEqual(got);
      expect(readdirEntries(dir).every((e) => e.isDir)).toBe(true);
      // through the door, as a cgroup tree under a sys root: listSys, sysExists, readSysText
      mkdirSync(join(dir, 'proc'));
      const src = new DirectoryProcSource({ procRoot: join(dir, 'proc'), sysRoot: dir });
      expect(src.listSys('').map((e) => e.name).sort()).toEqual([...got, 'proc'].sort());
      expect(src.readSysText('x\udcfe/memory.limit_in_bytes')).toBe('1\n');
      expect(src.readSysText('x\udcff/memory.limit_in_bytes')).toBe('2\n');
      expect(src.readSysText('x\ufffd/memory.limit_in_bytes')).toBe('3\n');
      expect(src.sysExists('x\udcff')).toBe(true);
      expect(src.sysExists('x\ud800')).toBe(false);
      expect(() => src.readSysText('x\udc01/memory.limit_in_bytes')).toThrow(/stands for no byte/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a dump under d<FF> cannot reach a sibling d<EF BF BD> through a symlink (the inside check compares bytes, not U+FFFD text)', () => {
    const base = mkdtempSync(join(tmpdir(), `hostscope-bytes-${process.pid}-`));
    try {
      const root = Buffer.concat([Buffer.from(`${base}/d`), Buffer.from([0xff])]);
      const evil = Buffer.concat([Buffer.from(`${base}/d`), Buffer.from([0xef, 0xbf, 0xbd])]);
      for (const d of ['proc/1', 'sys']) mkdirSync(Buffer.concat([root, Buffer.from(`/${d}`)]), { recursive: true });
      mkdirSync(Buffer.concat([evil, Buffer.from('/sys')]), { recursive: true });
      writeFileSync(Buffer.concat([evil, Buffer.from('/sys/secret')]), 'hunter2\n');
      writeFileSync(Buffer.concat([root, Buffer.from('/sys/mine')]), 'ok\n');
      symlinkSync(Buffer.concat([Buffer.from('../../d'), Buffer.from([0xef, 0xbf, 0xbd]), Buffer.from('/sys/secret')]), Buffer.concat([root, Buffer.from('/sys/leak')]));
      const rootText = `${base}/d\udcff`;
      const src = new DirectoryProcSource({ procRoot: `${rootText}/proc`, sysRoot: `${rootText}/sys` });
      expect(src.readSysText('mine')).toBe('ok\n');
      expect(() => src.readSysText('leak')).toThrow(/leads outside/);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('escaped and raw bytes in mount points and unit names decode as bytes, not Latin-1 or U+FFFD (s20 #4)', () => {
  it('mountinfo: a raw 0xff in a mount point stays the byte; \\377 is that byte; \\342\\200\\256 is U+202E', () => {
    expect(unescapeOctal('/tmp/x/m\\377')).toBe('/tmp/x/m\udcff');
    expect(unescapeOctal('/a\\040b\\342\\200\\256c')).toBe('/a b\u202ec');
    expect(unescapeOctal('/plain')).toBe('/plain');
    const text = decodeBytes(Buffer.concat([Buffer.from('21 20 0:6 / /tmp/x/m'), Buffer.of(0xff), Buffer.from(' rw - tmpfs t\\342\\200\\256 rw\n')]));
    const [m] = parseMountInfo(text);
    expect(m!.mountPoint).toBe('/tmp/x/m\udcff');
    expect(m!.source).toBe('t\u202e');
    expect(escapeControl(m!.mountPoint)).toBe('/tmp/x/m\\xff');
  });

  it('cinf --pid P --mounts on a dump: the mount at /tmp/x/m\\xff prints as \\xff, not U+FFFD', () => {
    const root = hostileDump((r) => {
      const p = join(r, 'proc', '4338', 'mountinfo');
      writeFileSync(p, Buffer.concat([readFileSync(p), Buffer.from('99 43 0:66 / /tmp/x/m'), Buffer.of(0xff), Buffer.from(' rw,relatime - tmpfs tmpfs rw\n')]));
    });
    try {
      const p = readProcess(new DirectoryProcSource({ procRoot: join(root, 'proc'), sysRoot: join(root, 'sys') }), 4338, ['mountinfo'])!;
      expect(p.mounts!.map((m) => m.mountPoint)).toContain('/tmp/x/m\udcff');
      const r = runCinfOn(root, ['--pid', '4338', '--mounts']);
      expect(r.code).toBe(0);
      expect(r.out).toContain('/tmp/x/m\\xff');
      expect(r.out).not.toContain('\ufffd');
    } finally {
      cleanupDumps();
    }
  });

  it('systemd unit names: machine-a\\xe2\\x80\\xae.scope names a\\u202e (UTF-8), not a\\x80® (Latin-1)', () => {
    expect(containerFromCgroupPath('/machine.slice/machine-a\\xe2\\x80\\xae.scope')?.name).toBe('a\u202e');
    expect(containerFromCgroupPath('/machine.slice/machine-my\\x2dbox.scope')?.name).toBe('my-box');
    expect(containerFromCgroupPath('/machine.slice/machine-b\\xff.scope')?.name).toBe('b\udcff');
    expect(escapeControl(containerFromCgroupPath('/machine.slice/systemd-nspawn@c\\xc2\\x9b.service')!.name)).toBe('c\\x9b');
  });
});
