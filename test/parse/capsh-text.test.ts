import { describe, expect, it } from 'vitest';
import { capListText, capToText, iabToText } from '../../src/parse/capabilities.js';

/**
 * libcap 2.66's cap_to_text() and cap_iab_to_text(), as `capsh --print` prints them: each
 * expected text was printed by capsh on this machine (kernel cap_last_cap 40: 41 bits) for the
 * state given. The live differential test (test/live/capsh-print.test.ts) checks whole outputs.
 */
const ALL = (1n << 41n) - 1n;
const bit = (...b: number[]): bigint => b.reduce((m, x) => m | (1n << BigInt(x)), 0n);

describe('capToText (capsh "Current:")', () => {
  it.each([
    ['root here: all but cap_sys_resource in e and p', { effective: ALL & ~bit(24), permitted: ALL & ~bit(24), inheritable: 0n }, '=ep cap_sys_resource-ep'],
    ['nothing at all', { effective: 0n, permitted: 0n, inheritable: 0n }, '='],
    ['one capability in all three sets: "= x+eip" shortened to "x=eip"', { effective: bit(10), permitted: bit(10), inheritable: bit(10) }, 'cap_net_bind_service=eip'],
    [
      'inheritable raised, bounding-dropped bits lowered',
      { effective: ALL & ~bit(13, 16, 21, 24), permitted: ALL & ~bit(13, 16, 21, 24), inheritable: bit(0, 5, 10) },
      '=ep cap_chown,cap_kill,cap_net_bind_service+i cap_net_raw,cap_sys_module,cap_sys_admin,cap_sys_resource-ep',
    ],
    ['a bit above the kernel\'s last capability is given by number, with +', { effective: bit(45), permitted: 0n, inheritable: 0n }, '= 45+e'],
  ])('%s', (_case, sets, text) => {
    expect(capToText(sets, 41)).toBe(text);
  });
});

describe('iabToText (capsh "Current IAB:")', () => {
  it.each([
    ['bounding set short of one', { inheritable: 0n, ambient: 0n, bounding: ALL & ~bit(24) }, '!cap_sys_resource'],
    ['ambient (^) implies inheritable; plain inheritable by name', { inheritable: bit(0, 5, 10), ambient: bit(10), bounding: ALL & ~bit(13) }, 'cap_chown,cap_kill,^cap_net_bind_service,!cap_net_raw'],
    ['inheritable outside the bounding set: !%', { inheritable: bit(12, 19), ambient: 0n, bounding: ALL & ~bit(12) }, '!%cap_net_admin,cap_sys_ptrace'],
    ['nothing inheritable, full bounding set: empty', { inheritable: 0n, ambient: 0n, bounding: ALL }, ''],
  ])('%s', (_case, sets, text) => {
    expect(iabToText(sets, 41)).toBe(text);
  });
});

it('capListText: names below the kernel\'s bit count, comma-separated (capsh "Bounding set =")', () => {
  expect(capListText(bit(0, 40, 41), 41)).toBe('cap_chown,cap_checkpoint_restore');
  expect(capListText(0n, 41)).toBe('');
});
