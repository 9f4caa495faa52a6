import { describe, expect, it } from 'vitest';
import { TarParser, parseNumeric, type TarEntry } from '../../src/image/tar.js';
import { tarArchive, type BuildEntry } from '../../src/image/layout-builder.js';

function read(tar: Buffer, chunk: number): { entries: TarEntry[]; data: Map<string, string> } {
  const entries: TarEntry[] = [];
  const data = new Map<string, string>();
  const p = new TarParser(
    {
      entry(e) {
        entries.push(e);
        const parts: Buffer[] = [];
        return { data: (c) => parts.push(Buffer.from(c)), end: () => data.set(e.name, Buffer.concat(parts).toString('latin1')) };
      },
    },
    'test',
  );
  for (let i = 0; i < tar.length; i += chunk) p.write(tar.subarray(i, i + chunk));
  p.finish();
  return { entries, data };
}

const ENTRIES: BuildEntry[] = [
  { name: 'dir/', type: 'dir', mode: 0o755 },
  { name: 'dir/small', data: 'hello' },
  { name: 'dir/block', data: Buffer.alloc(512, 1) },
  { name: 'dir/odd', data: Buffer.alloc(1500, 2), mode: 0o4755, uid: 1000, gid: 1001 },
  { name: `pax/${'p'.repeat(200)}`, data: 'pax' },
  { name: `gnu/${'g'.repeat(200)}`, data: 'gnu', gnu: true },
  { name: 'link', type: 'symlink', linkname: `target/${'t'.repeat(150)}` },
  { name: 'glink', type: 'symlink', linkname: `target/${'k'.repeat(150)}`, gnu: true },
  { name: 'hard', type: 'hardlink', linkname: 'dir/small' },
  { name: 'dev', type: 'char', devmajor: 1, devminor: 3 },
  { name: 'empty', data: '' },
];

describe('TarParser: streaming, whatever the chunk boundaries', () => {
  const tar = tarArchive(ENTRIES);
  const whole = read(tar, tar.length);
  it('reads every entry type, long names (pax and GNU L/K), modes, ids, device numbers', () => {
    expect(whole.entries.map((e) => [e.name, e.type])).toEqual(ENTRIES.map((e) => [e.name, e.type ?? 'file']));
    const odd = whole.entries.find((e) => e.name === 'dir/odd')!;
    expect(odd).toMatchObject({ mode: 0o4755, uid: 1000, gid: 1001, size: 1500 });
    expect(whole.entries.find((e) => e.name === 'link')!.linkname).toBe(`target/${'t'.repeat(150)}`);
    expect(whole.entries.find((e) => e.name === 'glink')!.linkname).toBe(`target/${'k'.repeat(150)}`);
    expect(whole.entries.find((e) => e.name === 'dev')).toMatchObject({ devmajor: 1, devminor: 3 });
    expect(whole.data.get('dir/odd')).toBe(Buffer.alloc(1500, 2).toString('latin1'));
    expect(whole.data.get(`gnu/${'g'.repeat(200)}`)).toBe('gnu');
  });
  for (const chunk of [1, 7, 511, 512, 513, 4096]) {
    it(`fed ${chunk} bytes at a time gives the same entries and data`, () => {
      const r = read(tar, chunk);
      expect(r.entries).toEqual(whole.entries);
      expect(r.data).toEqual(whole.data);
    });
  }
  it('base-256 numbers (GNU) for big ids and sizes; negative ones refused', () => {
    const b = Buffer.alloc(12);
    b[0] = 0x80;
    b.writeUInt32BE(0x12345678, 8);
    expect(parseNumeric(b, 0, 12)).toBe(0x12345678);
    b[0] = 0xff;
    expect(parseNumeric(b, 0, 12)).toBeNaN();
    expect(parseNumeric(Buffer.from('0000644 \0'), 0, 8)).toBe(0o644);
    expect(parseNumeric(Buffer.from('12x4567\0'), 0, 8)).toBeNaN();
  });
  it('a lone zero block followed by a header is corrupt; data after the end is ignored', () => {
    const one = tarArchive([{ name: 'a', data: 'x' }]);
    const lone = Buffer.concat([one.subarray(0, 1024), Buffer.alloc(512), one.subarray(0, 1024), Buffer.alloc(1024)]);
    expect(() => read(lone, 100)).toThrow(/a lone zero block/);
    const trailing = Buffer.concat([one, Buffer.from('garbage after the end-of-archive blocks')]);
    expect(read(trailing, 100).entries).toHaveLength(1);
  });
  it('an unknown entry type byte is named escaped as \\xNN (escapeControl), never as ?', () => {
    const withType = (byte: number): Buffer => {
      const t = tarArchive([{ name: 'a', data: 'x' }]);
      t[156] = byte;
      t.fill(0x20, 148, 156); // the checksum counts its own field as spaces
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += t[i]!;
      t.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
      return t;
    };
    expect(() => read(withType(0x1b), 512)).toThrow("unsupported entry type '\\x1b' for a");
    expect(() => read(withType(0xe9), 512)).toThrow("unsupported entry type '\\xe9' for a");
    expect(() => read(withType(0x5a), 512)).toThrow("unsupported entry type 'Z' for a");
  });
  it('a pax header declaring a record past its end is corrupt', () => {
    const t = tarArchive([{ name: `x/${'y'.repeat(120)}`, data: 'x' }]);
    t.write('99', 512, 'latin1'); // the first record's length
    expect(() => read(t, 512)).toThrow(/pax record overruns its header|bad pax record/);
  });
});
