import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { Spawned, waitFor } from '../../scripts/lib/spawned.js';
import { IS_ROOT } from '../helpers/live.js';
import { captureDeps } from '../helpers/fixtures.js';
import { cinfMain } from '../../cli/cinf.js';

/**
 * Issue 10, live: the LSM label of a process this test starts, as cinf tells it, against what the
 * kernel file itself says. This VM may have no LSM at all (attr/current answers EINVAL, there is
 * no attr/apparmor/): then the story says so and the LABEL column is `-`; on an AppArmor or
 * SELinux host the label must be the file's text.
 */
type Kernel = { label: string } | { errno: string };

function kernelSays(path: string): Kernel | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return { label: readFileSync(path, 'utf8').replace(/[\0\n]+$/, '') };
  } catch (e) {
    return { errno: (e as NodeJS.ErrnoException).code ?? 'EIO' };
  }
}

describe.skipIf(!IS_ROOT)('live: the LSM label of a process the test starts', () => {
  const spawned = new Spawned();
  let pid = 0;

  beforeAll(async () => {
    pid = spawned.start('sleep', [`${900 + (process.pid % 83)}`]).pid!;
    expect(await waitFor(() => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep')).toBe(true);
  });
  afterAll(async () => {
    await spawned.stopAll();
  });

  const cinf = async (argv: string[]) => {
    const deps = captureDeps();
    const code = await cinfMain(argv, deps);
    return { code, out: deps.out(), err: deps.err() };
  };

  it('the story and --json say what attr/current and attr/apparmor/current say', async () => {
    const current = kernelSays(`/proc/${pid}/attr/current`);
    const apparmor = kernelSays(`/proc/${pid}/attr/apparmor/current`);
    const r = await cinf(['--pid', String(pid)]);
    expect(r.code).toBe(0);
    const line = r.out.split('\n').find((l) => l.startsWith('  lsm label '));
    if (current && 'label' in current && current.label !== '') expect(line).toBe(`  lsm label     ${current.label}`);
    else if (current && 'errno' in current && current.errno === 'EINVAL') expect(line).toBe('  lsm label     - (no LSM keeps a label: the kernel answers EINVAL)');
    else expect(line).toBeUndefined();
    const aa = r.out.split('\n').find((l) => l.startsWith('  apparmor '));
    if (apparmor && 'label' in apparmor && apparmor.label !== '' && !(current && 'label' in current && current.label === apparmor.label)) expect(aa).toBe(`  apparmor      ${apparmor.label}`);
    else expect(aa).toBeUndefined();

    const json = JSON.parse((await cinf(['--pid', String(pid), '--json'])).out) as { lsmLabels: { current: string | null; apparmor: string | null } };
    expect(json.lsmLabels).toEqual({
      current: current && 'label' in current && current.label !== '' ? current.label : null,
      apparmor: apparmor && 'label' in apparmor && apparmor.label !== '' ? apparmor.label : null,
    });
  }, 240_000);

  it('-o PID,LABEL: the label, or - where the kernel keeps none', async () => {
    const current = kernelSays(`/proc/${pid}/attr/current`);
    const apparmor = kernelSays(`/proc/${pid}/attr/apparmor/current`);
    const want = current && 'label' in current && current.label !== '' ? current.label : apparmor && 'label' in apparmor && apparmor.label !== '' ? apparmor.label : null;
    const r = await cinf(['--find', `^sleep ${900 + (process.pid % 83)}$`, '-o', 'PID,LABEL', '--json']);
    expect(JSON.parse(r.out)).toEqual({ processes: [{ pid, label: want }] });
    const t = await cinf(['--find', `^sleep ${900 + (process.pid % 83)}$`, '-o', 'PID,LABEL', '-n', '-r']);
    expect(t.out).toBe(`${pid} ${want === null ? '-' : want.replace(/ /g, '\\x20')}\n`);
  }, 240_000);
});
