import { describe, expect, it } from 'vitest';
import { CAPABILITIES, capNames, encodeCaps, formatCapshDecode, fullMask, parseCapMask } from '../../src/parse/capabilities.js';
import { parseBlkioOps, parseCpuMax, parseFlatKeyed, parseNestedKeyed, parseSingleValue, v1Limit } from '../../src/parse/cgroupfs-format.js';
import { escapeControl } from '../../src/render/escape.js';
import { describeCapSet } from '../../src/render/story.js';

describe('capabilities', () => {
  it('capsh --decode lines from anchors.md, to the byte', () => {
    expect(formatCapshDecode(0xa80425fbn)).toBe(
      '0x00000000a80425fb=cap_chown,cap_dac_override,cap_fowner,cap_fsetid,cap_kill,cap_setgid,cap_setuid,cap_setpcap,cap_net_bind_service,cap_net_raw,cap_sys_chroot,cap_mknod,cap_audit_write,cap_setfcap',
    );
    expect(formatCapshDecode(0n)).toBe('0x0000000000000000=');
    expect(formatCapshDecode(3n)).toBe('0x0000000000000003=cap_chown,cap_dac_override');
    const all = formatCapshDecode(0xffffffffffffffffn);
    expect(all.startsWith('0xffffffffffffffff=cap_chown,')).toBe(true);
    expect(all.endsWith('cap_bpf,cap_checkpoint_restore,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63')).toBe(true);
  });
  it('the table has 41 capabilities, bits 0..40 in order', () => {
    expect(CAPABILITIES.map((c) => c.bit)).toEqual([...Array(41).keys()]);
    expect(fullMask()).toBe(0x1ffffffffffn);
  });
  it('strict mask parsing: garbage is refused, where capsh reads 0', () => {
    expect(parseCapMask('00000000a80425fb')).toBe(0xa80425fbn);
    expect(parseCapMask('0x3')).toBe(3n);
    expect(parseCapMask(' 20')).toBe(0x20n);
    for (const bad of ['zz', '', '0x', '00000000a80425fbXYZ', '1ffffffffffffffff', '-1', '12 34']) expect(parseCapMask(bad), bad).toBeUndefined();
  });
  it('encode: names with or without cap_, any case, numbers, all', () => {
    expect(encodeCaps(['cap_chown', 'KILL', '10'])).toEqual({ mask: 0x421n });
    expect(encodeCaps(['all'])).toEqual({ mask: fullMask() });
    expect(encodeCaps(['cap_chown', 'cap_bogus'])).toEqual({ unknown: ['cap_bogus'] });
    expect(encodeCaps(['64'])).toEqual({ unknown: ['64'] });
    expect(encodeCaps([' cap_chown ', 'kill'])).toEqual({ mask: 0x21n });
  });
  it('encode: an empty or blank item is refused, not skipped (",,," is not the empty set)', () => {
    for (const list of ['', ' ', ',,,', 'cap_chown,', ',cap_chown', 'cap_chown,,cap_kill', 'cap_chown, ,cap_kill']) expect(encodeCaps(list.split(',')), JSON.stringify(list)).toEqual({ empty: true });
    expect(encodeCaps([])).toEqual({ mask: 0n });
  });
  it('encode and decode are inverse on every single bit', () => {
    for (let b = 0; b < 64; b++) {
      const names = capNames(1n << BigInt(b));
      expect(encodeCaps(names)).toEqual({ mask: 1n << BigInt(b) });
    }
  });
  it('short set descriptions', () => {
    const full = fullMask();
    expect(describeCapSet(full, full)).toBe('all');
    expect(describeCapSet(full & ~(1n << 24n), full)).toBe('all except cap_sys_resource');
    expect(describeCapSet(0n, full)).toBe('(none)');
    expect(describeCapSet(0x21n, full)).toBe('cap_chown,cap_kill');
    expect(describeCapSet(full | (1n << 41n), full)).toBe('all,41');
  });
});

describe('cgroupfs formats', () => {
  it('single values and max', () => {
    expect(parseSingleValue('536870912\n')).toBe(536870912);
    expect(parseSingleValue('max\n')).toBeNull();
    expect(() => parseSingleValue('\n', 'memory.max')).toThrow(/memory.max/);
  });
  it('v1 unlimited', () => {
    expect(v1Limit(9223372036854771712)).toBeNull();
    expect(v1Limit(-1)).toBeNull();
    expect(v1Limit(8000000)).toBe(8000000);
  });
  it('flat keyed', () => {
    expect(parseFlatKeyed('usage_usec 10\nnr_throttled 2\n')).toEqual({ usage_usec: 10, nr_throttled: 2 });
    expect(() => parseFlatKeyed('a b c\n')).toThrow();
  });
  it('nested keyed (io.stat)', () => {
    const m = parseNestedKeyed('8:0 rbytes=1 wbytes=2\n253:0 rbytes=3 wbytes=max\n');
    expect([...m.keys()]).toEqual(['8:0', '253:0']);
    expect({ ...m.get('8:0') }).toEqual({ rbytes: '1', wbytes: '2' });
    expect({ ...m.get('253:0') }).toEqual({ rbytes: '3', wbytes: 'max' });
  });
  it('cpu.max', () => {
    expect(parseCpuMax('max 100000\n')).toEqual({ quotaUsec: null, periodUsec: 100000 });
    expect(parseCpuMax('50000 100000\n')).toEqual({ quotaUsec: 50000, periodUsec: 100000 });
    expect(() => parseCpuMax('50000\n')).toThrow(/cpu.max/);
  });
  it('v1 blkio sums devices and skips Total', () => {
    expect(Object.fromEntries(parseBlkioOps('8:0 Read 10\n8:0 Write 1\n8:16 Read 5\n8:16 Total 5\nTotal 16\n'))).toEqual({ Read: 15, Write: 1, Total: 5 });
  });
});

describe('escapeControl (E25)', () => {
  it('escapes C0, DEL, C1 and raw bytes as \\xNN like lsns', () => {
    expect(escapeControl('evil\nname\u001b[31mRED')).toBe('evil\\x0aname\\x1b[31mRED');
    expect(escapeControl('a\u007fb\u0085c')).toBe('a\\x7fb\\x85c');
    expect(escapeControl('raw\udcffbyte')).toBe('raw\\xffbyte');
    expect(escapeControl('plain ünïcode 容器')).toBe('plain ünïcode 容器');
  });
});
