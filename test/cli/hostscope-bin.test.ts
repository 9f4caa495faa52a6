import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT_DIR } from '../helpers/live.js';
import { captureDeps, rootArgs } from '../helpers/fixtures.js';
import { exporterMain } from '../../cli/exporter.js';

// The hostscope bin as a user runs it (package.json "bin", executed itself: its first line runs
// node with --no-memory-reducer on the file, scripts/bundle-bins.mjs), against the command run
// in-process on a fixture host: the same bytes, run itself and through node.
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT_DIR, 'package.json'), 'utf8')) as { bin: Record<string, string> };
const BIN = path.join(ROOT_DIR, pkg.bin.hostscope!);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hostscope-bin-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('the hostscope bin (dist/bin/hostscope.js)', () => {
  const argv = ['exporter', '--once', ...rootArgs('v1-docker-seed')];

  it('its first line is a shell script running node with --no-memory-reducer on the file', () => {
    const head = fs.readFileSync(BIN, 'utf8').split('\n').slice(0, 2);
    expect(head).toEqual(['#!/bin/sh', `':' //; exec node --no-memory-reducer "$0" "$@"`]);
    expect(fs.statSync(BIN).mode & 0o111).toBe(0o111);
  });

  it('run itself, node gets the flag, the file and the arguments as given (a node on PATH that notes its arguments)', () => {
    const log = path.join(tmp, 'args');
    const node = path.join(tmp, 'node');
    fs.writeFileSync(node, `#!/bin/sh\nprintf '%s\\n' "$@" > '${log}'\nexec '${process.execPath}' "$@"\n`, { mode: 0o755 });
    const p = spawnSync(BIN, ['--version'], { encoding: 'utf8', env: { ...process.env, PATH: `${tmp}:${process.env.PATH ?? ''}` } });
    expect(p.stderr).toBe('');
    expect(p.status).toBe(0);
    expect(fs.readFileSync(log, 'utf8')).toBe(`--no-memory-reducer\n${BIN}\n--version\n`);
  });

  it('prints what the command prints in-process, run itself and through node', async () => {
    const deps = captureDeps();
    const code = await exporterMain(argv.slice(1), deps);
    expect(code).toBe(0);
    for (const p of [spawnSync(BIN, argv, { encoding: 'utf8' }), spawnSync(process.execPath, [BIN, ...argv], { encoding: 'utf8' })]) {
      expect(p.stderr).toBe(deps.err());
      expect(p.status).toBe(0);
      expect(p.stdout).toBe(deps.out());
    }
  });
});
