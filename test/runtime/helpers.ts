import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { GOLDEN_DIR } from '../helpers/fixtures.js';
import type { NodeKind, PathView } from '../../src/runtime/securejoin.js';
import type { PlanStep } from '../../src/runtime/plan-steps.js';

/** an in-memory tree: path → 'dir' | 'file' | 'other' | '->target' (a symlink) */
export function memView(tree: Record<string, string>): PathView {
  return {
    lstat(p): NodeKind {
      const v = tree[p];
      if (v === undefined) return 'missing';
      if (v === 'dir' || v === 'file' || v === 'other') return v;
      return 'symlink';
    },
    readlink(p) {
      const v = tree[p];
      if (v === undefined || !v.startsWith('->')) throw new Error(`not a link: ${p}`);
      return v.slice(2);
    },
  };
}

/** one line per step: index, name, then the arguments that matter (bigint masks in hex, byte buffers by length) */
export function listSteps(steps: PlanStep[]): string {
  return steps
    .map((s, i) => {
      const { op, label, ignoreError, when, ...args } = s as PlanStep & Record<string, unknown>;
      const a = JSON.stringify(args, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v instanceof Uint8Array ? `<${v.length} bytes>` : v));
      return `${String(i).padStart(3)} ${label ?? op}${ignoreError ? ' [ignore error]' : ''}${when ? ` [if ${when.step} ${when.ok ? 'ok' : 'failed'}]` : ''} ${op} ${a}`;
    })
    .join('\n')
    .concat('\n');
}

export function golden(name: string, actual: string): void {
  const file = join(GOLDEN_DIR, name);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
  }
  if (!existsSync(file)) throw new Error(`no golden file ${name}: run UPDATE_GOLDEN=1 npx vitest run test/runtime and review the diff`);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}
