import { describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParseError } from '../../src/parse/errors.js';
import { decodeBytes, splitNul } from '../../src/parse/text.js';
import { parseProcStatus, parseRangeList } from '../../src/parse/proc-status.js';
import { parseProcStat } from '../../src/parse/proc-stat.js';
import { parseNsLink } from '../../src/parse/ns-link.js';
import { parseIdMap } from '../../src/parse/proc-id-map.js';
import { parseBlkioOps, parseFlatKeyed, parseNestedKeyed, parseSingleBig, parseSingleValue } from '../../src/parse/cgroupfs-format.js';
import { exactInteger, parsePidName } from '../../src/parse/numbers.js';
import { HOSTS_DIR } from '../helpers/fixtures.js';

const STATUS = readFileSync(join(HOSTS_DIR, 'v2-docker-systemd/proc/1/status'), 'utf8');

describe('#17 slow decoding', () => {
  it('#17: a 1.8 MB argument with one invalid byte is decoded in one pass (a handful of toString calls, not one a byte)', () => {
    const buf = Buffer.alloc(1_800_000, 0x61);
    buf[900_000] = 0xff;
    const spy = vi.spyOn(Buffer.prototype, 'toString');
    try {
      const s = decodeBytes(buf);
      expect(s.length).toBe(1_800_000);
      expect(s.charCodeAt(900_000)).toBe(0xdcff);
      expect(s.slice(0, 10)).toBe('aaaaaaaaaa');
      // before: one toString per byte after the fallback (1.8 million calls)
      expect(spy.mock.calls.length).toBeLessThanOrEqual(4);
    } finally {
      spy.mockRestore();
    }
  });

  it('#17: invalid sequences of every kind become one escape per byte; valid UTF-8 and U+FFFD itself stay', () => {
    const cases: [number[], string][] = [
      [[0x61, 0xc0, 0x80, 0x62], 'a\udcc0\udc80b'], // overlong
      [[0xed, 0xa0, 0x80], '\udced\udca0\udc80'], // a surrogate encoded
      [[0xf4, 0x90, 0x80, 0x80], '\udcf4\udc90\udc80\udc80'], // above U+10FFFF
      [[0xe2, 0x82], '\udce2\udc82'], // truncated
      [[0xef, 0xbf, 0xbd, 0xff], '\ufffd\udcff'], // a real U+FFFD, then a bad byte
      [[0xf0, 0x9f, 0x92, 0x80, 0x80], '\u{1f480}\udc80'],
    ];
    for (const [bytes, want] of cases) expect(decodeBytes(Buffer.from(bytes))).toBe(want);
    expect(splitNul(Buffer.from([0x61, 0, 0xff, 0, 0x62]))).toEqual(['a', '\udcff', 'b']);
  });

  it('splitNul: the same parts as decoding each NUL-ended piece (seeded random bytes, NULs, truncated sequences); 6 MiB of NULs in one pass', () => {
    const byPiece = (buf: Buffer): string[] => {
      const parts: string[] = [];
      let start = 0;
      for (let i = buf.indexOf(0); i >= 0; i = buf.indexOf(0, start)) {
        parts.push(decodeBytes(buf, start, i));
        start = i + 1;
      }
      if (start < buf.length) parts.push(decodeBytes(buf, start, buf.length));
      return parts;
    };
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const alphabet = [0, 0, 0x61, 0xff, 0xe2, 0x80, 0xae, 0xc2, 0x9b, 0xf0, 0x9f, 0x92];
    for (let k = 0; k < 3000; k++) {
      const buf = Buffer.from(Array.from({ length: Math.floor(rnd() * 12) }, () => alphabet[Math.floor(rnd() * alphabet.length)]!));
      expect(splitNul(buf), buf.toString('hex')).toEqual(byPiece(buf));
    }
    for (const t of ['', '\0', 'a\0\0', 'a\0b', 'a\0b\0']) expect(splitNul(Buffer.from(t)), JSON.stringify(t)).toEqual(byPiece(Buffer.from(t)));
    expect(splitNul(Buffer.alloc(6 * 1024 * 1024))).toHaveLength(6 * 1024 * 1024);
  });

  it('#17: parseRangeList("9007199254740993") and ("0-4294967295") return (a ParseError), as do ranges past 65535 ids', () => {
    for (const t of ['9007199254740993', '0-4294967295', '0-65536', '5-3', '0-65535,0-65535']) expect(() => parseRangeList(t), t).toThrow(ParseError);
    expect(parseRangeList('0-3,8,10-11')).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(parseRangeList('0-65535')).toHaveLength(65536);
  });
});

describe('#10 NaN: bad numbers are a ParseError', () => {
  it('#10: Umask: zz and SigQ: foo/bar (the issue\'s two cases)', () => {
    expect(() => parseProcStatus(STATUS.replace(/^Umask:.*$/m, 'Umask:\tzz'), '1/status')).toThrow('cannot parse line 2 of 1/status: Umask: not an octal mode');
    expect(() => parseProcStatus(STATUS.replace(/^SigQ:.*$/m, 'SigQ:\tfoo/bar'), '1/status')).toThrow(/SigQ: expected "queued\/limit"/);
    const ok = parseProcStatus(STATUS);
    expect(ok.umask).toBe(0o22);
    expect(Number.isInteger(ok.sigQueued) && Number.isInteger(ok.sigQueueLimit)).toBe(true);
  });

  it('#10/#18: Number() spellings the kernel never prints are refused: 1e3, 0x10, 4338.0, " ", Infinity', () => {
    for (const bad of ['1e3', '0x10', '4338.0', ' ', '', 'Infinity', '+5']) {
      expect(exactInteger(bad), bad).toBeUndefined();
      expect(() => parseProcStatus(STATUS.replace(/^Threads:.*$/m, `Threads:\t${bad}`)), bad).toThrow(ParseError);
    }
  });
});

describe('#18 wrong but quiet', () => {
  it('#18: pid directory names: canonical decimal only', () => {
    expect(parsePidName('4338')).toBe(4338);
    for (const n of ['04338', '4338.0', '4338e0', '0', '+4338', ' 4338', '4338 ', '0x10ee', '99999999999']) expect(parsePidName(n), n).toBeUndefined();
  });

  it('#18: a garbage ns inode is a ParseError, never 1e+26', () => {
    expect(() => parseNsLink('net:[100000000000000000000000000]')).toThrow(ParseError);
    expect(() => parseNsLink('net:[0x10]')).toThrow(ParseError);
    expect(() => parseNsLink('net:[04026531840]')).toThrow(ParseError);
    expect(parseNsLink('net:[4026531840]').inode).toBe(4026531840);
  });

  it('#18: __proto__ and toString keys in cgroupfs files do not poison the parsed objects', () => {
    const nested = parseNestedKeyed('__proto__ polluted=1\ntoString rbytes=2\n8:0 __proto__=3 rbytes=4\n');
    expect(nested.get('__proto__')!.polluted).toBe('1');
    expect(nested.get('8:0')!['__proto__']).toBe('3');
    expect(Object.getPrototypeOf(nested.get('8:0'))).toBeNull();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const blkio = parseBlkioOps('8:0 __proto__ 5\n8:0 toString 3\n8:0 Read 1\n');
    expect(blkio.get('toString')).toBe(3);
    expect(blkio.get('__proto__')).toBe(5);
    const flat = parseFlatKeyed('__proto__ 1\ntoString 2\n');
    expect(Object.getPrototypeOf(flat)).toBeNull();
    expect(flat.toString).toBe(2);
    const st = parseProcStatus(`${STATUS}__proto__:\tx\ntoString:\ty\n`);
    expect(Object.getPrototypeOf(st.fields)).toBeNull();
    expect(st.fields.toString).toBe('y');
  });

  it('#18: integers above 2^53 are exact or refused, never rounded', () => {
    // v1's "unlimited" 2^63 − 4096 is exact as a double: kept
    expect(parseSingleValue('9223372036854771712\n')).toBe(9223372036854771712);
    expect(() => parseSingleValue('9007199254740993\n')).toThrow(/not exact/);
    expect(() => parseSingleValue('18446744073709551615\n')).toThrow(/not exact/);
    expect(() => parseFlatKeyed('total_rss 9007199254740993\n')).toThrow(/not exact/);
    expect(parseSingleBig('9007199254740993\n')).toBe(9007199254740993n); // cpuacct.usage in ns: BigInt
    expect(() => parseBlkioOps('8:0 Read 9007199254740992\n8:16 Read 1\n')).toThrow(/not exact/);
    expect(() => parseIdMap('0 0 4294967296\n')).toThrow(ParseError);
    const stat = readFileSync(join(HOSTS_DIR, 'v2-docker-systemd/proc/1/stat'), 'utf8');
    const f = stat.split(' ');
    f[22] = '9007199254740993'; // vsize
    expect(() => parseProcStat(f.join(' '))).toThrow(/not an exact integer/);
  });
});

describe('cgroupfs numbers the kernel never prints (a hostile dump)', () => {
  it('a sign, -0 and 2^64 are refused in single values and flat keyed files (they were shown as -5 B, 16.0 EiB, a negative OOM counter)', () => {
    for (const t of ['-5\n', '-0\n', '-1\n', '18446744073709551616\n']) expect(() => parseSingleValue(t, 'memory.current'), t).toThrow(ParseError);
    expect(() => parseFlatKeyed('oom_kill -5\n', 'memory.events')).toThrow(/memory\.events.*negative/);
    expect(() => parseFlatKeyed('oom_kill 18446744073709551616\n', 'memory.events')).toThrow(/beyond 2\^64/);
    // what the kernel does print stays: v1's unlimited (2^63 − 4096), and -1 where the file says "no limit" with it
    expect(parseSingleValue('9223372036854771712\n', 'memory.limit_in_bytes')).toBe(9223372036854771712);
    expect(parseSingleValue('-1\n', 'cpu.cfs_quota_us', true)).toBe(-1);
    expect(() => parseSingleValue('-5\n', 'cpu.cfs_quota_us', true)).toThrow(ParseError);
  });
});
