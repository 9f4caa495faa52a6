import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParseError } from '../../src/parse/errors.js';
import { PATH_MAX, parseProcCgroup } from '../../src/parse/proc-cgroup.js';
import { flattenForest, forestToJson, type TreeNode } from '../../src/render/tree.js';
import { cleanupDumps, hostileDump, runCinfOn } from '../helpers/hostile.js';

/**
 * A dump's /proc/PID/cgroup naming a path thousands of levels deep: `cinf --cgroups` overflowed
 * the stack in the tree render (recursive build) at 3000 levels and took seconds at 1500. The
 * kernel never prints a path of PATH_MAX bytes or more; the tree is built and drawn with stacks.
 */
const P = 25533;

function deepDump(levels: number): string {
  return hostileDump((r) => {
    const p = join(r, 'proc', String(P), 'cgroup');
    const lines = readFileSync(p, 'utf8').split('\n').filter((l) => l !== '');
    writeFileSync(p, `${lines.map((l) => (l.includes(':memory:') ? `6:memory:/${Array(levels).fill('a').join('/')}` : l)).join('\n')}\n`);
  }, 'v1-docker-seed');
}

afterAll(cleanupDumps, 120_000);

describe('cgroup paths deeper than any kernel prints', () => {
  it('a path of PATH_MAX bytes or more is a parse error of the file; one byte less is read', () => {
    const at = (n: number): string => `6:memory:/${'x'.repeat(n - 1)}`;
    expect(parseProcCgroup(at(PATH_MAX - 1))[0]!.path).toHaveLength(PATH_MAX - 1);
    expect(() => parseProcCgroup(`1:cpu:/\n${at(PATH_MAX)}`, '42/cgroup')).toThrow(ParseError);
    expect(() => parseProcCgroup(at(PATH_MAX))).toThrow(/cgroup path longer than PATH_MAX \(4096 bytes\)/);
    // counted in bytes: `/` and 1365 three-byte characters are 4096 bytes
    expect(() => parseProcCgroup(`0::/${'€'.repeat(1365)}`)).toThrow(ParseError);
    expect(parseProcCgroup(`0::/${'€'.repeat(1364)}`)[0]!.path).toHaveLength(1365);
  });

  it('3000 levels: cinf --cgroups ends with the tree (that process left out), --pid shows the field as unparsable', () => {
    const root = deepDump(3000);
    const r = runCinfOn(root, ['--cgroups']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('└─25514 containerd-shim');
    expect(r.out).not.toContain(`${P} /http-server`);
    const p = runCinfOn(root, ['--pid', String(P)]);
    expect(p.code).toBe(0);
    expect(p.out).toMatch(/^CGROUPS \(v1\)\n {2}\? \(unexpected format\)$/m);
  });

  it('1500 levels (3000 bytes, a path the kernel could print): the whole tree, as text and JSON', () => {
    const root = deepDump(1500);
    const r = runCinfOn(root, ['--cgroups']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const rows = r.out.split('\n');
    const last = rows.findIndex((l) => l.endsWith(`└─${P} /http-server`));
    expect(last).toBeGreaterThan(1500);
    expect(rows[last - 1]).toMatch(/ {2}└─a$/); // the 1500th level
    expect(rows.filter((l) => /[└├]─a$/.test(l))).toHaveLength(1500);
    const j = runCinfOn(root, ['--cgroups', '--json']);
    expect(j.code).toBe(0);
    let n = (JSON.parse(j.out) as { cgroups: { tree: { path: string; children: unknown[] } }[] }).cgroups[0]!.tree;
    let depth = 0;
    for (;;) {
      const next = (n.children as { path: string; children: unknown[] }[]).find((c) => c.path.startsWith('/a'));
      if (!next) break;
      n = next;
      depth++;
    }
    expect(depth).toBe(1500);
  });

  it('flattenForest and forestToJson walk a chain 100000 deep (no recursion)', () => {
    const top: TreeNode<number> = { row: 0, children: [] };
    let t = top;
    for (let i = 1; i < 100_000; i++) {
      const c = { row: i, children: [] };
      t.children.push(c);
      t = c;
    }
    const flat = flattenForest([top]);
    expect(flat).toHaveLength(100_000);
    expect(flat[2]!.prefix).toBe('  └─');
    const j = forestToJson([top], (r) => ({ r }));
    expect((j[0]!.children as { r: number }[])[0]!.r).toBe(1);
  });
});
