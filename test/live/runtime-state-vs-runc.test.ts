import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { has, IS_ROOT } from '../helpers/live.js';
import { ociState, renderListJson, renderListTable, renderOciState, type OciState, type SavedState } from '../../src/runtime/state.js';
import { exampleSpec, renderSpecJson } from '../../src/runtime/spec-default.js';

/**
 * Differential: a real runc 1.1 container (busybox sleep, parked in `created`), and what runc
 * prints for state and list next to what our renderers print for the same data.
 */
const ready = IS_ROOT && has('runc') && fs.existsSync('/bin/busybox');
describe.skipIf(!ready && !process.env.CI)('state and list output vs runc', () => {
  const id = `hs-state-${process.pid}`;
  let tmp: string;
  let root: string;
  const runc = (...a: string[]) => execFileSync('runc', ['--root', root, ...a], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), `hs-runc-${process.pid}-`));
    root = `${tmp}/root`;
    fs.mkdirSync(`${tmp}/bundle/rootfs/bin`, { recursive: true });
    fs.copyFileSync('/bin/busybox', `${tmp}/bundle/rootfs/bin/busybox`);
    fs.chmodSync(`${tmp}/bundle/rootfs/bin/busybox`, 0o755);
    fs.symlinkSync('busybox', `${tmp}/bundle/rootfs/bin/sleep`);
    const c = JSON.parse(renderSpecJson(exampleSpec()));
    c.process.terminal = false;
    c.process.args = ['sleep', '300'];
    c.annotations = { 'org.example/x': 'y' };
    fs.writeFileSync(`${tmp}/bundle/config.json`, JSON.stringify(c));
    const r = spawnSync('runc', ['--root', root, 'create', '--bundle', `${tmp}/bundle`, id], { stdio: 'ignore', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`runc create failed: ${r.status}`);
  });
  afterAll(() => {
    spawnSync('runc', ['--root', root, 'delete', '--force', id], { stdio: 'ignore', timeout: 60_000 });
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const asSaved = (st: OciState): SavedState => ({
    id: st.id,
    pid: st.pid,
    pidStartTime: 0,
    bundle: st.bundle,
    rootfs: st.rootfs,
    created: st.created,
    owner: st.owner,
    annotations: st.annotations ?? {},
    creating: false,
    cgroupPaths: {},
    namespaces: [],
    configPath: '',
    rootless: false,
  });
  it('state: byte-identical from the same data', () => {
    const out = runc('state', id);
    const st = JSON.parse(out) as OciState;
    expect(st.status).toBe('created');
    expect(renderOciState(ociState(asSaved(st), st.status))).toBe(out);
  });
  it('list (table and json): byte-identical from the same data', () => {
    const json = runc('list', '--format', 'json');
    const rows = (JSON.parse(json) as OciState[]).map((s) => ({ state: ociState(asSaved({ ...s, owner: '' }), s.status), ownerName: s.owner }));
    expect(renderListJson(rows)).toBe(json);
    expect(renderListTable(rows)).toBe(runc('list'));
  });
  it('empty list', () => {
    const empty = `${tmp}/empty-root`;
    expect(renderListTable([])).toBe(execFileSync('runc', ['--root', empty, 'list'], { encoding: 'utf8' }));
    expect(renderListJson([])).toBe(execFileSync('runc', ['--root', empty, 'list', '--format', 'json'], { encoding: 'utf8' }));
  });
});
