import { describe, expect, it } from 'vitest';
import { parseLsmAttr, lsmLabelOf } from '../../src/parse/lsm-attr.js';
import { readLsmLabels } from '../../src/proc/lsm.js';
import { captureDeps, fixtureSource, rootArgs } from '../helpers/fixtures.js';
import { golden } from '../helpers/golden.js';
import { cinfMain } from '../../cli/cinf.js';

/** Issue 10: the LSM label (attr/current, attr/apparmor/current) in the story and as cinf's LABEL column. */

describe('parseLsmAttr', () => {
  it.each([
    ['AppArmor: profile and mode, newline-terminated', 'docker-default (enforce)\n', 'docker-default (enforce)'],
    ['SELinux: context, NUL-terminated', 'system_u:system_r:container_t:s0:c1,c2\0', 'system_u:system_r:container_t:s0:c1,c2'],
    ['Smack: a bare label', '_', '_'],
    ['empty file', '', ''],
  ])('%s', (_case, text, label) => {
    expect(parseLsmAttr(text)).toBe(label);
  });
});

describe('readLsmLabels on the fixture hosts', () => {
  const v2 = fixtureSource('v2-docker-systemd');
  it('AppArmor host: the label of each file; a process without attr files has none (absent)', () => {
    expect(readLsmLabels(v2, 1234)).toEqual({ current: { label: 'docker-default (enforce)' }, apparmor: { label: 'docker-default (enforce)' } });
    expect(readLsmLabels(v2, 1)).toEqual({ current: { label: 'unconfined' }, apparmor: { label: 'unconfined' } });
    expect(readLsmLabels(v2, 700)).toEqual({ current: { none: 'absent' }, apparmor: { none: 'absent' } });
  });
  it('EACCES recorded at capture: denied, not "no label"', () => {
    expect(readLsmLabels(v2, 1400)).toEqual({ current: { error: 'PERMISSION_DENIED' }, apparmor: { error: 'PERMISSION_DENIED' } });
  });
  it('a kernel without an LSM (this VM: attr/current answers EINVAL, no attr/apparmor/): no-lsm, and AppArmor absent', () => {
    const l = readLsmLabels(fixtureSource('vm-hybrid-v1'), 1);
    expect(l).toEqual({ current: { none: 'no-lsm' }, apparmor: { none: 'absent' } });
    expect(lsmLabelOf(l)).toBeUndefined();
  });
});

async function cinf(host: string, argv: string[]) {
  const deps = captureDeps();
  const code = await cinfMain([...rootArgs(host), ...argv], deps);
  return { code, out: deps.out(), err: deps.err() };
}

describe('golden: the label in the story and the LABEL column', () => {
  it.each([
    ['v2-docker-systemd', 'pid-1300-label', ['--pid', '1300']],
    ['v2-docker-systemd', 'pid-1400-label', ['--pid', '1400']],
    ['v2-docker-systemd', 'namespace-user-label', ['--namespace', '4026531837', '-o', 'PID,LABEL,CONTAINER,CMD']],
    ['v2-docker-systemd', 'list-label', ['-t', 'mnt', '-o', '+LABEL']],
    ['vm-hybrid-v1', 'pid-1-label', ['--pid', '1']],
  ])('%s %s', async (host, name, argv) => {
    const r = await cinf(host, argv);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    golden(`${host}/cinf-${name}.txt`, r.out);
  });

  it('a hostile label is escaped in the table and the story; JSON carries it as data', async () => {
    const story = await cinf('v2-docker-systemd', ['--pid', '1300']);
    expect(story.out).toContain('lsm label     docker-nginx\\x1b]0;x\\x07 (complain)');
    expect(story.out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    const json = JSON.parse((await cinf('v2-docker-systemd', ['--pid', '1300', '--json'])).out) as { lsmLabels: unknown };
    expect(json.lsmLabels).toEqual({ current: 'docker-nginx\u001b]0;x\u0007 (complain)', apparmor: 'docker-nginx\u001b]0;x\u0007 (complain)' });
  });

  it('--find -o +LABEL: the column reads only attr files, for the rows shown', async () => {
    const r = await cinf('v2-docker-systemd', ['--find', 'redis', '-o', 'PID,LABEL', '--json']);
    expect(JSON.parse(r.out)).toEqual({ processes: [{ pid: 1234, label: 'docker-default (enforce)' }] });
  });
});
