import { describe, expect, it } from 'vitest';
import { runBin } from '../helpers/live.js';
import { rootArgs } from '../helpers/fixtures.js';

/** Stop 20, finding 5: `cinf --find . -H` listed the namespace list's columns (NS, TYPE, NPROCS …), which --find -o refuses. */
const names = (out: string): string[] => out.split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/)[0]!);

describe('-H lists the columns of the view chosen', () => {
  const root = rootArgs('v2-docker-systemd');
  it.each([
    ['--find', ['--find', '.']],
    ['--namespace', ['--namespace', '4026532504']],
    ['--container', ['--container', '5fba1658e4ce']],
  ])('%s -H: process columns, each of which that view\'s -o takes', (_v, view) => {
    const h = runBin('cinf', [...root, ...view, '-H']);
    expect(h.code).toBe(0);
    const cols = names(h.out);
    expect(cols).toEqual(expect.arrayContaining(['PID', 'NSPID', 'NAME', 'CMD']));
    expect(cols).not.toContain('NPROCS');
    const r = runBin('cinf', [...root, ...view, '-o', cols.join(',')]);
    expect(r.err).not.toMatch(/unknown column/);
    expect(r.code).toBe(0);
  });
  it('the namespace list -H: its own columns (NS, TYPE, NPROCS …), each of which -o takes', () => {
    const cols = names(runBin('cinf', [...root, '-H']).out);
    expect(cols).toEqual(expect.arrayContaining(['NS', 'TYPE', 'NPROCS']));
    expect(runBin('cinf', [...root, '-o', cols.filter((c) => !['PNS', 'ONS'].includes(c)).join(',')]).code).toBe(0);
  });
});
