import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { has, runBin } from '../helpers/live.js';

/** deterministic pseudo-random 64-bit masks (xorshift), so a failure can be replayed */
function masks(n: number): string[] {
  let x = 0x9e3779b97f4a7c15n;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    x ^= (x << 13n) & 0xffffffffffffffffn;
    x ^= x >> 7n;
    x ^= (x << 17n) & 0xffffffffffffffffn;
    out.push(x.toString(16).padStart(16, '0'));
  }
  return out;
}

const CASES = [
  '00000000a80425fb', '000001ffffffffff', 'ffffffffffffffff', '0000000000000000', '0', '3', '0x3', '0x00000000a80425fb',
  '000001fffeffffff', '00000000800405fb', '0000010000000000', '0000020000000000',
  ...Array.from({ length: 64 }, (_, b) => (1n << BigInt(b)).toString(16)),
  ...masks(150),
];

describe.skipIf(!has('capsh'))('capdecode agrees with capsh --decode', () => {
  it(`prints exactly capsh's line for ${CASES.length} masks`, () => {
    const ours = runBin('capdecode', CASES);
    expect(ours.code).toBe(0);
    const theirs = CASES.map((m) => execFileSync('capsh', [`--decode=${m}`], { encoding: 'utf8' })).join('');
    expect(ours.out).toBe(theirs);
  });

  it('the full CLI path (with flags present) gives the same lines as the fast path', () => {
    const fast = runBin('capdecode', ['00000000a80425fb', 'ffffffffffffffff']);
    const full = runBin('capdecode', ['--', '00000000a80425fb', 'ffffffffffffffff']);
    expect(full).toEqual(fast);
  });

  it('where capsh silently reads garbage as 0, capdecode refuses it', () => {
    expect(execFileSync('capsh', ['--decode=zz'], { encoding: 'utf8' })).toBe('0x0000000000000000=\n');
    expect(runBin('capdecode', ['zz'])).toEqual({ code: 1, out: '', err: "capdecode: invalid capability mask 'zz'\n" });
    expect(runBin('capdecode', ['00000000a80425fbXYZ']).code).toBe(1);
  });

  it('--pid of this process matches capsh --decode of its status lines', () => {
    const status = execFileSync('cat', [`/proc/${process.pid}/status`], { encoding: 'utf8' });
    const r = runBin('capdecode', ['--pid', String(process.pid)]);
    expect(r.code).toBe(0);
    for (const key of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) {
      const hex = new RegExp(`^${key}:\\s+([0-9a-f]+)$`, 'm').exec(status)![1]!;
      expect(r.out).toContain(`${key}:\t${execFileSync('capsh', [`--decode=${hex}`], { encoding: 'utf8' })}`);
    }
  });
});

describe.skipIf(!has('capsh'))("capsh's own spelling", () => {
  it('--decode=HEX prints what capsh --decode=HEX prints', () => {
    expect(runBin('capdecode', ['--decode=00000000a80425fb']).out).toBe(execFileSync('capsh', ['--decode=00000000a80425fb'], { encoding: 'utf8' }));
  });
});
