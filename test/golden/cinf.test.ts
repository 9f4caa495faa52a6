import { describe, expect, it } from 'vitest';
import { captureDeps, manifest, rootArgs } from '../helpers/fixtures.js';
import { golden } from '../helpers/golden.js';
import { cinfMain } from '../../cli/cinf.js';
import { capdecodeMain } from '../../cli/capdecode.js';

/**
 * Golden outputs of every view on every fixture host. UPDATE_GOLDEN=1 rewrites them; the diff is
 * reviewed like code. Paths to the fixture are replaced by <HOST> so the files do not depend on
 * where the checkout lives.
 */

async function run(main: typeof cinfMain, argv: string[], columns?: number) {
  const deps = captureDeps(columns === undefined ? {} : { columns });
  const code = await main(argv, deps);
  return { code, out: deps.out(), err: deps.err() };
}

/** per host: a container init, a non-host pid namespace, a hierarchy spec for --cgroup */
const CASES: Record<string, { pid: number; ns: number; cgroup: string }> = {
  'vm-hybrid-v1': { pid: manifest('vm-hybrid-v1').madeByCapture![7]!, ns: 0, cgroup: 'memory' },
  'v2-docker-systemd': { pid: 1234, ns: 4026532504, cgroup: '0' },
  'v1-docker-seed': { pid: 20892, ns: 4026532226, cgroup: '6' },
  'vm-inside-container': { pid: 1, ns: 4026532180, cgroup: 'memory' },
};

describe.each(Object.keys(CASES))('cinf golden on %s', (host) => {
  const c = CASES[host]!;
  const root = rootArgs(host);
  const views: [string, string[], number?][] = [
    ['list', []],
    ['list-all-columns', ['-o', 'NS,TYPE,NPROCS,USERS,PID,PPID,UID,USER,PATH,DEV,HOST,CONTAINER,CMD']],
    ['list-json', ['--json']],
    ['list-raw-net', ['-r', '-t', 'net', '-o', '+CONTAINER']],
    ['list-narrow-60', [], 60],
    ['list-tree-process', ['--tree', '-o', 'NS,TYPE,NPROCS,PID,CMD']],
    ['pid', ['--pid', String(c.pid), '--env']],
    ['pid-json', ['--pid', String(c.pid), '--json']],
    ['cgroup', ['--cgroup', `${c.pid}:${c.cgroup}`]],
  ];
  if (c.ns) views.push(['namespace', ['--namespace', String(c.ns), '-o', '+NSPID,USER,CAPEFF,SECCOMP,NNP,CONTAINER']], ['namespace-json', ['--namespace', String(c.ns), '--json']]);
  it.each(views)('%s', async (name, argv, columns) => {
    const r = await run(cinfMain, [...root, ...argv], columns);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    golden(`${host}/cinf-${name}.txt`, r.out);
    if (name.endsWith('json')) expect(() => JSON.parse(r.out)).not.toThrow();
    if (columns !== undefined) for (const line of r.out.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(Math.max(columns, 60));
  });
});

describe('cinf output is safe and honest', () => {
  it('E25: the hostile comm never reaches the terminal raw', async () => {
    const r = await run(cinfMain, [...rootArgs('vm-hybrid-v1'), '-o', 'PID,CMD', '-t', 'pid']);
    const all = await run(cinfMain, [...rootArgs('vm-hybrid-v1'), '--namespace', '4026531836']);
    expect(all.out).toContain('a:b\\x0ac\\x1b[31m)(x');
    expect(all.out + r.out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
  });
  it('counts a zombie, shows it, and says Z (zombie)', async () => {
    const r = await run(cinfMain, [...rootArgs('vm-hybrid-v1'), '--namespace', '4026531836', '-o', 'PID,STATE']);
    expect(r.out).toMatch(/Z \(zombie\)/);
  });
});

describe('capdecode golden', () => {
  // capdecode reads processes only: --proc-root, no --sys-root (issue 6 bug 11)
  const procRoot = (host: string) => rootArgs(host).slice(0, 2);
  it.each([
    ['pid-v2-redis', [...procRoot('v2-docker-systemd'), '--pid', '1234']],
    ['pid-v1-seed-redis', [...procRoot('v1-docker-seed'), '--pid', '20892']],
    ['pid-json', [...procRoot('v2-docker-systemd'), '--pid', '1300', '--json']],
    ['encode', ['--encode', 'cap_chown,kill,10']],
    ['list', ['--list', '--json']],
  ])('%s', async (name, argv) => {
    const r = await run(capdecodeMain, argv);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    golden(`capdecode/${name}.txt`, r.out);
  });
});
