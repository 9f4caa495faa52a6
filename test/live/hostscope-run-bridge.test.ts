import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, IS_ROOT, has } from '../helpers/live.js';
import { HostscopeParents } from '../helpers/run-parents.js';

/**
 * `--net bridge` inside a network namespace this test makes to play the host (`ip netns add`):
 * every hostscope command runs under `nsenter --net=` into it, so the bridge, the veths and all
 * traffic stay there; the host's network is never touched. Two containers ping each other and
 * the bridge; the "host" pings a container; rm leaves no veth and frees the address; a failed
 * run leaves no veth, address or container.
 */
const ready = IS_ROOT && has('ip') && has('nsenter') && has('ping') && fs.existsSync('/bin/busybox') && fs.existsSync(path.join(BIN('hostscope'), '../../../build/Release/hostscope-monitor'));
const NS = `hs-br-${process.pid}`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `hs-run-br-${process.pid}-`));
const store = `${tmp}/store`;
const env = { ...process.env, HOSTSCOPE_RUN_ROOT: store, FORCE_COLOR: '0' };
const parents = new HostscopeParents();

function inNs(argv: string[], extraEnv: Record<string, string> = {}): { code: number; out: string; err: string } {
  const r = spawnSync('nsenter', [`--net=/run/netns/${NS}`, '--', ...argv], { encoding: 'utf8', env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000 });
  return { code: r.status ?? 128, out: r.stdout, err: r.stderr };
}
const hs = (...args: string[]) => inNs([process.execPath, BIN('hostscope'), ...args]);
const links = () => inNs(['ip', '-o', 'link', 'show']).out;
const ids = () => (fs.existsSync(`${store}/containers`) ? fs.readdirSync(`${store}/containers`) : []);
const addrs = () => (fs.existsSync(`${store}/net/addrs`) ? fs.readdirSync(`${store}/net/addrs`).sort() : []);

afterAll(() => {
  if (fs.existsSync(`/run/netns/${NS}`)) for (const id of ids()) hs('rm', '-f', id);
  spawnSync('ip', ['netns', 'del', NS]);
  fs.rmSync(tmp, { recursive: true, force: true });
  parents.removeMade();
}, 180_000);

describe.skipIf(!ready && !process.env.CI)('hostscope run --net bridge, in a network namespace playing the host', { timeout: 240_000 }, () => {
  let a = '';
  let b = '';
  it('setup: the test’s own netns', () => {
    expect(spawnSync('ip', ['netns', 'add', NS]).status).toBe(0);
    expect(inNs(['ip', 'link', 'set', 'lo', 'up']).code).toBe(0);
  });

  it('two containers: the bridge hs0 made once with 10.88.0.1/16, a veth each on it, addresses .2 and .3, lo up, default route', () => {
    const ra = hs('run', '-d', '--name', `a-${process.pid}`, '--net', 'bridge', 'busybox', 'sleep', '300');
    expect(ra.code, ra.err).toBe(0);
    a = ra.out.trim();
    const rb = hs('run', '-d', '--name', `b-${process.pid}`, '--net', 'bridge', 'busybox', 'sleep', '300');
    expect(rb.code, rb.err).toBe(0);
    b = rb.out.trim();
    expect(inNs(['ip', '-o', '-4', 'addr', 'show', 'dev', 'hs0']).out).toContain('inet 10.88.0.1/16');
    const l = links();
    expect(l).toMatch(new RegExp(`vhs${a.slice(0, 12)}@\\S+ .* master hs0 .*state UP`));
    expect(l).toMatch(new RegExp(`vhs${b.slice(0, 12)}@\\S+ .* master hs0 .*state UP`));
    const ia = hs('exec', a, 'ip', '-o', '-4', 'addr');
    expect(ia.out).toMatch(/1: lo +inet 127\.0\.0\.1\/8/);
    expect(ia.out).toMatch(/eth0 +inet 10\.88\.0\.2\/16/);
    expect(hs('exec', b, 'ip', '-o', '-4', 'addr').out).toMatch(/eth0 +inet 10\.88\.0\.3\/16/);
    expect(hs('exec', a, 'ip', 'route').out).toMatch(/^default via 10\.88\.0\.1 dev eth0/m);
    const insp = JSON.parse(hs('inspect', a).out)[0].NetworkSettings;
    expect(insp).toEqual({ Bridge: 'hs0', IPAddress: '10.88.0.2', IPPrefixLen: 16, Gateway: '10.88.0.1', HostVeth: `vhs${a.slice(0, 12)}`, Subnet: '10.88.0.0/16' });
    expect(addrs()).toEqual(['10.88.0.2', '10.88.0.3']);
  });

  it('they reach each other and the bridge; the netns playing the host reaches them', () => {
    const p1 = hs('exec', a, 'ping', '-c', '1', '-W', '5', '10.88.0.3');
    expect(p1.code, p1.out + p1.err).toBe(0);
    expect(p1.out).toContain('1 packets received');
    const p2 = hs('exec', b, 'ping', '-c', '1', '-W', '5', '10.88.0.2');
    expect(p2.code, p2.out + p2.err).toBe(0);
    const p3 = hs('exec', b, 'ping', '-c', '1', '-W', '5', '10.88.0.1');
    expect(p3.code, p3.out + p3.err).toBe(0);
    const p4 = inNs(['ping', '-c', '1', '-W', '5', '10.88.0.2']);
    expect(p4.code, p4.out + p4.err).toBe(0);
  });

  it('--net container:A on a bridge container shares its eth0 and address', () => {
    const r = hs('run', '--rm', '--net', `container:a-${process.pid}`, 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/inet 10\.88\.0\.2\/16/);
  });

  it('rm: the veth goes, the address is free again (the next container gets .2), the bridge stays (as docker0)', () => {
    expect(hs('rm', '-f', a).code).toBe(0);
    expect(links()).not.toContain(`vhs${a.slice(0, 12)}`);
    expect(addrs()).toEqual(['10.88.0.3']);
    const r = hs('run', '--rm', '--net', 'bridge', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/inet 10\.88\.0\.2\/16/);
    expect(addrs()).toEqual(['10.88.0.3']);
    expect(hs('rm', '-f', b).code).toBe(0);
    expect(links()).not.toMatch(/vhs/);
    expect(addrs()).toEqual([]);
    expect(links()).toContain('hs0');
  });

  it('--subnet with its own bridge (HOSTSCOPE_BRIDGE): the address comes from it', () => {
    const r = inNs([process.execPath, BIN('hostscope'), 'run', '--rm', '--net', 'bridge', '--subnet', '10.213.7.0/24', 'busybox', 'sh', '-c', 'ip -o -4 addr show dev eth0; ip route'], { HOSTSCOPE_BRIDGE: 'hst1' });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/inet 10\.213\.7\.2\/24/);
    expect(r.out).toMatch(/default via 10\.213\.7\.1 dev eth0/);
  });

  it('a failed run (a subnet the bridge does not have; a command that does not exist): one line, no veth, no address, no container', () => {
    const before = ids().length;
    const r = hs('run', '--net', 'bridge', '--subnet', '10.77.0.0/16', 'busybox', 'true');
    expect(r.code).toBe(1);
    expect(r.err).toBe('hostscope run: bridge hs0 has 10.88.0.1/16, not 10.77.0.1/16 (another --subnet uses it)\n');
    const r2 = hs('run', '--net', 'bridge', 'busybox', '/no/such/command');
    expect(r2.code).not.toBe(0);
    expect(r2.err.split('\n').length).toBe(2);
    expect(links()).not.toMatch(/vhs/);
    expect(addrs()).toEqual([]);
    expect(ids().length).toBe(before);
    const bad = hs('run', '--net', 'bridge', '--subnet', '10.1.2.3/16', 'busybox', 'true');
    expect([bad.code, bad.err]).toEqual([1, "hostscope run: invalid subnet '10.1.2.3/16' (host bits set: 10.1.0.0/16?)\n"]);
    const nob = hs('run', '--subnet', '10.1.0.0/16', 'busybox', 'true');
    expect([nob.code, nob.err]).toEqual([1, 'hostscope run: --subnet needs --net bridge\n']);
  });
});
