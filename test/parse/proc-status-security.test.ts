import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseProcStatus, parseStatusSecurity } from '../../src/parse/proc-status.js';
import { ParseError } from '../../src/parse/errors.js';

/** every status file of the fixture hosts (real hosts' dumps) */
function fixtureStatuses(): string[] {
  const out: string[] = [];
  const hosts = join(import.meta.dirname, '../../fixtures/hosts');
  for (const h of readdirSync(hosts)) {
    const proc = join(hosts, h, 'proc');
    if (!existsSync(proc)) continue;
    for (const d of readdirSync(proc)) if (/^[0-9]+$/.test(d) && existsSync(join(proc, d, 'status'))) out.push(join(proc, d, 'status'));
  }
  return out;
}

describe('parseStatusSecurity (the exporter reads it for every container init, every scrape)', () => {
  it('gives what parseProcStatus gives for those four lines, on every fixture host status file', () => {
    const files = fixtureStatuses();
    expect(files.length).toBeGreaterThan(20);
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      const full = parseProcStatus(text, f);
      expect(parseStatusSecurity(text, f), f).toEqual({ capEff: full.capEff, capBnd: full.capBnd, noNewPrivs: full.noNewPrivs, seccomp: full.seccomp });
    }
  });

  it('an old kernel without CapBnd, NoNewPrivs, Seccomp: those are undefined', () => {
    expect(parseStatusSecurity('Name:\tsh\nCapInh:\t0000000000000000\nCapEff:\t00000000a80425fb\n')).toEqual({ capEff: 0xa80425fbn, capBnd: undefined, noNewPrivs: undefined, seccomp: undefined });
  });

  it('a key on the first line is found; a longer key with the same start is not taken for it', () => {
    expect(parseStatusSecurity('CapEff:\t0000000000000001\nSeccomp_filters:\t3\nNoNewPrivs:\t1\n')).toEqual({ capEff: 1n, capBnd: undefined, noNewPrivs: true, seccomp: undefined });
  });

  it('no CapEff line, a mask that is not hex, a mode that is not a number: ParseError', () => {
    expect(() => parseStatusSecurity('Name:\tsh\n')).toThrow(ParseError);
    expect(() => parseStatusSecurity('CapEff:\tzz\n')).toThrow(ParseError);
    expect(() => parseStatusSecurity('CapEff:\t0\nSeccomp:\ttwo\n')).toThrow(ParseError);
  });
});
