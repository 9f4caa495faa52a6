import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Spawned, waitFor } from '../../scripts/lib/spawned.js';
import { IS_ROOT, has, runBin } from '../helpers/live.js';

/**
 * Issue 10: `capdecode --pid P --print` against the real `capsh --print` (libcap2-bin, installed
 * by .ci/run), differential, on processes this test starts. Each case sets a capability state with
 * setpriv, which execs `capsh --print -- -c 'exec sleep …'`: capsh prints its own state, then bash
 * and sleep replace it in the same pid, and an execve by a process whose state an execve already
 * made leaves that state as it is (the same uid, the same sets). So capdecode reads, from /proc,
 * the state capsh printed from inside. Lines are compared one by one, except the ones that differ
 * on purpose (docs/capdecode.md): capsh's Securebits block and "Guessed mode:" line, which need the
 * securebits that /proc does not show, and our one Securebits line (whose no-new-privs part must
 * still agree).
 */
/** [what it covers, setpriv options, capsh options before --print] */
const CASES: [string, string[], string[]?][] = [
  ['root, as the test runs (cap_sys_resource outside the bounding set here)', []],
  ['bounding set reduced, inheritable and ambient raised, no_new_privs', ['--bounding-set=-net_raw,-sys_admin,-sys_module', '--inh-caps=+net_bind_service,+chown,+kill', '--ambient-caps=+net_bind_service', '--no-new-privs']],
  ['an unprivileged uid with one ambient capability (effective = permitted = ambient)', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=+net_bind_service', '--ambient-caps=+net_bind_service']],
  ['a uid and groups no passwd or group entry names (capsh prints ???), every capability dropped', ['--reuid=4242', '--regid=4243', '--groups=4244,0', '--inh-caps=-all', '--bounding-set=-all']],
  // capsh itself makes this one (setpriv cannot raise an inheritable bit outside the bounding set):
  // after the exec, permitted = inheritable | bounding, the same sets it printed
  ['root with an inheritable capability dropped from the bounding set (the !% form of the IAB text)', [], ['--inh=cap_net_admin,cap_sys_ptrace', '--drop=cap_net_admin']],
];

describe.skipIf(!IS_ROOT || !has('capsh') || !has('setpriv') || !has('stdbuf'))('capdecode --pid P --print agrees with capsh --print', () => {
  const spawned = new Spawned();
  afterAll(async () => {
    await spawned.stopAll();
  });

  it.each(CASES)('%s', async (_name, setpriv, capshArgs = []) => {
    const secs = `${600 + (process.pid % 97)}.${Math.floor(Math.random() * 1e6)}`;
    // stdbuf: capsh's printf to a pipe is block-buffered, and its execve would drop the buffer
    const child = spawned.start('setpriv', [...setpriv, 'stdbuf', '-o0', 'capsh', ...capshArgs, '--print', '--', '-c', `exec sleep ${secs}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let printed = '';
    let errText = '';
    child.stdout!.on('data', (d: Buffer) => (printed += d.toString('utf8')));
    child.stderr!.on('data', (d: Buffer) => (errText += d.toString('utf8')));
    const pid = child.pid!;
    const slept = await waitFor(() => {
      try {
        return printed.includes('Guessed mode:') && readFileSync(`/proc/${pid}/cmdline`, 'utf8') === `sleep\0${secs}\0`;
      } catch {
        return false;
      }
    }, 20_000);
    expect(slept, `capsh did not print and exec sleep: ${errText}`).toBe(true);

    const ours = runBin('capdecode', ['--pid', String(pid), '--print']);
    expect(ours.err).toBe('');
    expect(ours.code).toBe(0);
    const theirs = printed.trimEnd().split('\n');
    const mine = ours.out.trimEnd().split('\n');
    // what differs on purpose, left out of the line-by-line comparison
    const capshComparable = theirs.filter((l) => !l.startsWith('Securebits:') && !l.startsWith(' secure-') && !l.startsWith('Guessed mode:'));
    const oursComparable = mine.filter((l) => !l.startsWith('Securebits:'));
    expect(oursComparable).toEqual(capshComparable);
    // the no-new-privs part of the Securebits line agrees
    const nnp = (lines: string[]) => /\(no-new-privs=(\d)\)$/.exec(lines.find((l) => l.startsWith('Securebits:'))!)![1];
    expect(nnp(mine)).toBe(nnp(theirs));
    expect(mine.find((l) => l.startsWith('Securebits:'))).toBe(`Securebits: unknown: /proc shows no process's securebits (no-new-privs=${nnp(theirs)})`);
  }, 240_000);

  it('--print without --pid, and of a process that is not there: one line, exit 1', () => {
    expect(runBin('capdecode', ['--print'])).toMatchObject({ code: 1, err: expect.stringMatching(/^capdecode: --print needs --pid\n/) });
    expect(runBin('capdecode', ['--pid', '4194304', '--print'])).toEqual({ code: 1, out: '', err: 'capdecode: no process with pid 4194304\n' });
  });
});
