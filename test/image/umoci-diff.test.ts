/**
 * Differential: our unpack against Debian's umoci (`umoci unpack --image DIR:TAG BUNDLE`) on the
 * same layouts, compared file for file: type, mode, uid/gid, size, content hash, link target.
 * Device nodes and FIFOs are the one intended difference (umoci creates them as root; we skip
 * them: the runtime makes /dev), so they are listed apart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { LayoutBuilder, type BuildEntry, type LayerSpec } from '../../src/image/layout-builder.js';
import { unpackImage } from '../../src/image/oci.js';
import { describe as lines, snapshot } from './tree.js';
import { has, IS_ROOT } from '../helpers/live.js';

const HAVE_UMOCI = has('umoci');
let base: string;
beforeAll(() => {
  base = fs.mkdtempSync(join(os.tmpdir(), `hostscope-umoci-${process.pid}-`));
});
afterAll(() => {
  fs.rmSync(base, { recursive: true, force: true });
});

async function run(name: string, layers: LayerSpec[]): Promise<{ ours: string[]; umoci: string[]; umociDevices: string[] }> {
  const dir = join(base, name);
  const b = new LayoutBuilder(join(dir, 'layout'));
  b.add({ tag: 'latest', layers });
  const r = spawnSync('umoci', ['unpack', ...(IS_ROOT ? [] : ['--rootless']), '--image', `${b.dir}:latest`, join(dir, 'bundle')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`umoci unpack failed: ${r.stderr}`);
  await unpackImage(b.dir, 'latest', join(dir, 'ours'));
  const u = snapshot(join(dir, 'bundle', 'rootfs'));
  const umociDevices = [...u].filter(([, n]) => n.type === 'other').map(([k]) => k);
  for (const k of umociDevices) u.delete(k);
  return { ours: lines(snapshot(join(dir, 'ours')), { root: true }), umoci: lines(u, { root: true }), umociDevices };
}

const f = (name: string, data: string, extra: Partial<BuildEntry> = {}): BuildEntry => ({ name, data, ...extra });
const d = (name: string, extra: Partial<BuildEntry> = {}): BuildEntry => ({ name, type: 'dir', ...extra });

describe.skipIf(!HAVE_UMOCI)('unpack vs umoci unpack, file for file (umoci from Debian, installed by .ci/run)', () => {
  it('multi-layer image: modes, owners, setuid, symlinks, hard links, whiteouts, opaque dirs, long names, devices', async () => {
    const long = `usr/share/${'n'.repeat(110)}/${'m'.repeat(120)}`;
    const r = await run('layers', [
      {
        entries: [
          d('./'),
          d('bin/'),
          f('bin/sh', '#!sh', { mode: 0o755 }),
          f('bin/passwd', 'suid', { mode: 0o4755 }),
          f('bin/wall', 'sgid', { mode: 0o2755, gid: 5 }),
          d('home/'),
          d('home/user/', { mode: 0o700, uid: 1000, gid: 1000 }),
          f('home/user/.profile', 'PS1=$', { mode: 0o600, uid: 1000, gid: 1000 }),
          d('etc/'),
          f('etc/hosts', '127.0.0.1 localhost\n'),
          f('etc/old', 'gone soon'),
          d('var/'),
          d('var/cache/'),
          f('var/cache/a', 'a'),
          d('var/cache/sub/'),
          f('var/cache/sub/b', 'b'),
          d('usr/'),
          d('usr/lib/'),
          { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
          { name: 'etc/abs', type: 'symlink', linkname: '/etc/hosts' },
          { name: 'bin/sh-hard', type: 'hardlink', linkname: 'bin/sh' },
          d('usr/share/'),
          d(`usr/share/${'n'.repeat(110)}/`),
          f(long, 'long'),
          d('tmp/', { mode: 0o1777 }),
          d('dev/'),
          { name: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
          { name: 'dev/fifo', type: 'fifo', mode: 0o600 },
        ],
      },
      {
        compression: 'none',
        entries: [d('etc/'), { name: 'etc/.wh.old' }, d('var/cache/', { mode: 0o750 }), { name: 'var/cache/.wh..wh..opq' }, f('var/cache/new', 'new'), f('etc/hosts', 'replaced\n', { mode: 0o640, gid: 4 })],
      },
      { entries: [f('lib/libc.so', 'libc'), f('bin/sh', 'sh v2', { mode: 0o755 })] },
    ]);
    expect(r.ours).toEqual(r.umoci);
    expect(r.umociDevices.sort()).toEqual(IS_ROOT ? ['dev/fifo', 'dev/null'] : r.umociDevices);
    expect(r.ours.length).toBeGreaterThan(20);
  });

  it('symlink-then-write and a symlink parent replaced between layers resolve inside the tree as umoci does', async () => {
    const r = await run('symlinks', [
      { entries: [d('a/'), f('a/f', '1'), { name: 'out', type: 'symlink', linkname: '/etc' }, d('etc/')] },
      { entries: [{ name: 'a', type: 'symlink', linkname: '../../../../tmp' }, f('out/written', 'inside')] },
      { entries: [f('a/x', 'via replaced parent')] },
    ]);
    expect(r.ours).toEqual(r.umoci);
    // both wrote through the planted links into the tree's own /etc and /tmp
    expect(r.ours.filter((l) => /^(etc\/written|tmp\/x) file /.test(l))).toHaveLength(2);
  });
});
