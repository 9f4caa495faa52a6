import { describe, expect, it } from 'vitest';
import { IdParseError, MAX_ID, parseId } from '../../src/nsenter/ids.js';
import { encodeStep } from '../../src/native/steps.js';
import { loadNative } from '../../src/native/index.js';
import { NATIVE } from '../helpers/native.js';

/** Bug 16 of issue 6: `nsenter-ts -S 4294967295 id` and `-S 18446744073709551616` ran as uid 0. */
describe('-S/-G ids are parsed strictly: 0 … 4294967294, digits only', () => {
  it.each([
    ['0', 0],
    ['65534', 65534],
    ['01', 1],
    ['4294967294', MAX_ID],
  ])('%s is %d', (s, n) => {
    expect(parseId(s, 'uid')).toBe(n);
  });

  it.each([
    // (uid_t)-1 means "unchanged" to setresuid: util-linux 2.38 fails late with "setuid failed: Invalid argument"
    ['4294967295', "failed to parse uid: '4294967295': Numerical result out of range"],
    // util-linux 2.38 wraps 2^32 to uid 0 and runs the program as root
    ['4294967296', "failed to parse uid: '4294967296': Numerical result out of range"],
    ['18446744073709551616', "failed to parse uid: '18446744073709551616': Numerical result out of range"],
    ['9'.repeat(40), `failed to parse uid: '${'9'.repeat(40)}': Numerical result out of range`],
    ['-1', "failed to parse uid: '-1'"],
    ['+5', "failed to parse uid: '+5'"],
    [' 1', "failed to parse uid: ' 1'"],
    ['1x', "failed to parse uid: '1x'"],
    ['0x10', "failed to parse uid: '0x10'"],
    ['1e3', "failed to parse uid: '1e3'"],
    ['', "failed to parse uid: ''"],
  ])('%j is refused: %s', (s, msg) => {
    expect(() => parseId(s, 'uid')).toThrow(IdParseError);
    expect(() => parseId(s, 'uid')).toThrow(msg);
  });

  it('gid messages name the gid', () => {
    expect(() => parseId('abc', 'gid')).toThrow("failed to parse gid: 'abc'");
  });
});

describe('bug 16: the step encoder and the native glue refuse an id that would wrap', () => {
  it.each([4294967295, 4294967296, -1, 1.5, Number.NaN, 2 ** 53])('encodeStep refuses %d', (id) => {
    expect(() => encodeStep({ op: 'setresuid', ruid: id, euid: id, suid: id })).toThrow(RangeError);
    expect(() => encodeStep({ op: 'setresgid', rgid: 0, egid: id, sgid: 0 })).toThrow(RangeError);
    expect(() => encodeStep({ op: 'setgroups', gids: [0, id] })).toThrow(RangeError);
  });

  it('encodeStep keeps the largest valid id', () => {
    expect(encodeStep({ op: 'setresuid', ruid: MAX_ID, euid: MAX_ID, suid: 0 }).a).toEqual([MAX_ID, MAX_ID, 0]);
  });

  // straight to the addon, past the encoder: nothing is forked, a RangeError comes back
  it.skipIf(!NATIVE).each([
    ['setresuid 2^32', { op: 17, flags: 0, a: [4294967296, 4294967296, 4294967296] }],
    ['setresuid (uid_t)-1', { op: 17, flags: 0, a: [4294967295, 0, 0] }],
    ['setresgid -1', { op: 16, flags: 0, a: [-1, -1, -1] }],
    ['setresgid 1.5', { op: 16, flags: 0, a: [1.5, 1, 1] }],
    ['setresuid a bigint', { op: 17, flags: 0, a: [0n, 0n, 0n] }],
    ['setresuid missing ids', { op: 17, flags: 0, a: [0] }],
    ['setgroups 2^32', { op: 15, flags: 0, gids: [4294967296] }],
  ])('the addon refuses %s', (_name, step) => {
    const b = loadNative()!;
    expect(() => b.spawn([step, { op: 26, flags: 0, s: ['/bin/true'], argv: ['true'], envp: [], a: [0] }], -1)).toThrow(/uid or gid out of range/);
  });
});

describe.skipIf(!NATIVE)('the addon refuses a string it cannot pass whole (never a shorter argv, never a NULL path)', () => {
  // op 26: exec (the step the ids tests end with); op 7: sethostname (strlen of its string)
  it.each([
    ['an argv element that is bytes holding a NUL', { op: 26, flags: 0, s: ['/bin/echo'], argv: ['echo', 'a', new Uint8Array([0x62, 0, 0x63]), 'd'], envp: [], a: [0] }],
    ['an argv element that is a number', { op: 26, flags: 0, s: ['/bin/echo'], argv: ['echo', 1], envp: [], a: [0] }],
    ['an envp element that is bytes holding a NUL', { op: 26, flags: 0, s: ['/bin/true'], argv: ['true'], envp: [new Uint8Array([0x58, 0x3d, 0])], a: [0] }],
    ['a path that is a number', { op: 26, flags: 0, s: [5], argv: ['true'], envp: [], a: [0] }],
    ['a path that is bytes holding a NUL', { op: 26, flags: 0, s: [new Uint8Array([0x2f, 0, 0x78])], argv: ['true'], envp: [], a: [0] }],
  ])('%s', (_name, step) => {
    const b = loadNative()!;
    expect(() => b.spawn([step], -1)).toThrow(/a step is malformed/);
  });
});
