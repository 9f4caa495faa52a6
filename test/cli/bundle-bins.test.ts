import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT_DIR } from '../helpers/live.js';

// scripts/bundle-bins.mjs writes dist/bin of its working directory: run here in a temp tree that
// links the sources, so the dist/bin other tests run is never rebuilt under them.
const tree = fs.mkdtempSync(path.join(os.tmpdir(), `hs-bundle-${process.pid}-`));
for (const e of ['cli', 'src', 'tui', 'scripts', 'node_modules', 'package.json', 'tsconfig.json']) fs.symlinkSync(path.join(ROOT_DIR, e), path.join(tree, e));
const chunks = path.join(tree, 'dist/bin/chunks');

afterAll(() => fs.rmSync(tree, { recursive: true, force: true }));

function bundle(): void {
  const r = spawnSync(process.execPath, [path.join(ROOT_DIR, 'scripts/bundle-bins.mjs')], { cwd: tree, encoding: 'utf8', timeout: 300_000 });
  expect(r.status, r.stderr).toBe(0);
}

describe('scripts/bundle-bins.mjs', { timeout: 600_000 }, () => {
  it('clears dist/bin/chunks before writing it: a chunk of an earlier build does not stay, and every chunk left is one a bin or chunk imports', () => {
    // what an earlier build with other sources left (another hash)
    fs.mkdirSync(chunks, { recursive: true });
    fs.writeFileSync(path.join(chunks, 'chunk-STALE000.js'), 'export const stale = 1;\n');
    bundle();
    const first = fs.readdirSync(chunks).sort();
    expect(first).not.toContain('chunk-STALE000.js');
    expect(first.length).toBeGreaterThan(0);
    const bin = path.join(tree, 'dist/bin');
    const texts = [...fs.readdirSync(bin).filter((f) => /\.c?js$/.test(f)).map((f) => path.join(bin, f)), ...first.map((f) => path.join(chunks, f))].map((f) => fs.readFileSync(f, 'utf8'));
    for (const c of first) expect(texts.some((t) => t.includes(`/${c}`) || t.includes(`./${c}`)), c).toBe(true);
    // a second build of the same sources: the same chunks, none piled up
    bundle();
    expect(fs.readdirSync(chunks).sort()).toEqual(first);
  });
});
