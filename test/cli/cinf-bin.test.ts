import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT_DIR } from '../helpers/live.js';
import { captureDeps, rootArgs } from '../helpers/fixtures.js';
import { cinfMain } from '../../cli/cinf.js';

// The cinf bin as a user runs it (package.json "bin", executed itself: its first line), against the
// command run in-process, on a fixture host: the same bytes. It runs its bundle through a V8 code
// cache (src/runtime/code-cache.ts, tested there): the first run writes one, a later run uses it.
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT_DIR, 'package.json'), 'utf8')) as { bin: Record<string, string> };
const BIN = path.join(ROOT_DIR, pkg.bin.cinf!);
const CACHE = path.join(path.dirname(BIN), '.cinf-cache');

function runBin(argv: string[], viaNode = false) {
  const p = viaNode ? spawnSync(process.execPath, [BIN, ...argv], { encoding: 'utf8' }) : spawnSync(BIN, argv, { encoding: 'utf8' });
  return { code: p.status, out: p.stdout, err: p.stderr };
}

async function inProcess(argv: string[]) {
  const deps = captureDeps();
  const code = await cinfMain(argv, deps);
  return { code, out: deps.out(), err: deps.err() };
}

describe('the cinf bin (dist/bin/cinf.cjs)', () => {
  const argv = [...rootArgs('v1-docker-seed'), '--json'];

  it('its first line is a shell script running node with --max-opt=1 on the file; node FILE runs it as JavaScript', () => {
    const head = fs.readFileSync(BIN, 'utf8').split('\n').slice(0, 2);
    expect(head).toEqual(['#!/bin/sh', `':' //; unset NODE_EXTRA_CA_CERTS; exec node --max-opt=1 "$0" "$@"`]);
    expect(fs.statSync(BIN).mode & 0o111).toBe(0o111);
  });

  it('run itself, it drops NODE_EXTRA_CA_CERTS before Node starts (Node parses that file at every start; cinf makes no TLS connection): no warning for a missing file, which node FILE still gives', () => {
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: `/nonexistent-${process.pid}.pem` };
    const itself = spawnSync(BIN, ['--version'], { encoding: 'utf8', env });
    expect(itself.status).toBe(0);
    expect(itself.stderr).toBe('');
    const viaNode = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8', env });
    expect(viaNode.stderr).toContain('Ignoring extra certs');
  });

  it('prints what the command prints in-process, run itself and through node (with and without the flag)', async () => {
    const want = await inProcess(argv);
    expect(want.code).toBe(0);
    expect(want.out).toContain('"namespaces"');
    for (const viaNode of [false, true]) expect(runBin(argv, viaNode)).toEqual({ code: 0, out: want.out, err: '' });
    // a usage error: the same line and exit code as in-process
    const bad = await inProcess(['--bogus']);
    expect(runBin(['--bogus'])).toEqual({ code: bad.code, out: '', err: bad.err });
  });

  it('keeps a code cache per view and per node flags beside it (dir 0700, files 0600); a second run uses it (not rewritten)', () => {
    expect(runBin(argv).code).toBe(0);
    const dir = fs.lstatSync(CACHE);
    expect(dir.isDirectory()).toBe(true);
    expect(dir.mode & 0o777).toBe(0o700);
    // run itself: the flag's own cache (list-json-<hash of the flags>.v8); through node: list-json.v8
    const flagged = fs.readdirSync(CACHE).filter((f) => /^list-json-[0-9a-z]+\.v8$/.test(f));
    expect(flagged).toHaveLength(1);
    const file = path.join(CACHE, flagged[0]!);
    const before = fs.statSync(file);
    expect(before.mode & 0o777).toBe(0o600);
    expect(runBin(argv).code).toBe(0);
    const after = fs.statSync(file);
    // a cache not used is written again at exit (a new file renamed over it): same inode, same mtime = used
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    expect(runBin(argv, true).code).toBe(0);
    expect(fs.existsSync(path.join(CACHE, 'list-json.v8'))).toBe(true);
  });
});
