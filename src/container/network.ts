/**
 * `--net bridge`, what seed 003's netns hook does, with iproute2's `ip` (docs/adr/0012):
 *
 *   a bridge (default `hs0`, made once under a lock, its address the subnet's first: 10.88.0.1/16),
 *   a veth pair per container: `vhs<12 hex of the id>` on the host, enslaved to the bridge, and
 *   `eth0` in the container's network namespace with the next free address, loopback up, the
 *   default route via the bridge.
 *
 * The address is taken by the front end before the monitor starts (ROOT/net/addrs/<ip>, created
 * O_EXCL under ROOT/net/lock) and released by `rm`; the links are made by the monitor's hook
 * (`hostscope net-hook ID PID`, between `runc-ts create` and `start`), inside whatever network
 * namespace the monitor runs in (the host's, or the one a test made to play it). The veth dies with
 * the container's network namespace; `rm` deletes it too if still there. The bridge stays, as
 * docker0 does. No NAT, no port publishing, no /etc/hosts or resolv.conf.
 */
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { escapeControl } from '../render/escape.js';
import { mkdirInStore } from './store.js';

export class NetworkError extends Error {}

export const DEFAULT_SUBNET = '10.88.0.0/16';
export const DEFAULT_BRIDGE = 'hs0';

export interface Subnet {
  /** the network address as a 32-bit number */
  network: number;
  prefix: number;
  /** the bridge's: network + 1 */
  gateway: number;
  /** first and last address a container may have */
  first: number;
  last: number;
}

export function ipToString(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function parseIp(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255)) return undefined;
  return ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
}

/** `A.B.C.D/N` (IPv4, /8 to /30, host bits zero) */
export function parseSubnet(cidr: string): Subnet {
  const shown = escapeControl(cidr.slice(0, 64));
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(cidr);
  const ip = m ? parseIp(m[1]!) : undefined;
  if (!m || ip === undefined) throw new NetworkError(`invalid subnet '${shown}' (an IPv4 CIDR such as ${DEFAULT_SUBNET})`);
  const prefix = Number(m[2]);
  if (prefix < 8 || prefix > 30) throw new NetworkError(`invalid subnet '${shown}' (a prefix from /8 to /30)`);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  if ((ip & ~mask) >>> 0 !== 0) throw new NetworkError(`invalid subnet '${shown}' (host bits set: ${ipToString((ip & mask) >>> 0)}/${prefix}?)`);
  const broadcast = (ip | ~mask) >>> 0;
  return { network: ip, prefix, gateway: ip + 1, first: ip + 2, last: broadcast - 1 };
}

export function checkBridgeName(n: string): void {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/.test(n)) throw new NetworkError(`invalid bridge name '${escapeControl(n.slice(0, 32))}' (at most 15 of [a-zA-Z0-9_.-])`);
}

/** the host end's name: 15 bytes at most (IFNAMSIZ) */
export function hostVethName(id: string): string {
  return `vhs${id.slice(0, 12)}`;
}

export interface NetRecord {
  mode: 'bridge';
  bridge: string;
  subnet: string;
  ip: string;
  prefix: number;
  gateway: string;
  hostVeth: string;
}

// ---------------------------------------------------------------- the lock and the addresses

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** ROOT/net/lock, O_EXCL with our pid; a holder that died is taken over */
export function withNetLock<T>(root: string, fn: () => T): T {
  const dir = mkdirInStore(root, 'net', 0o700);
  const lock = join(dir, 'lock');
  for (let tries = 0; ; tries++) {
    try {
      const fd = fs.openSync(lock, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder = 0;
      try {
        holder = Number(fs.readFileSync(lock, 'utf8').trim());
      } catch {
        continue; // released meanwhile
      }
      if (holder > 0 && !alive(holder)) {
        fs.rmSync(lock, { force: true });
        continue;
      }
      if (tries > 1000) throw new NetworkError(`${lock}: held by pid ${holder} for too long`);
      sleepSync(10);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

function addrDir(root: string): string {
  return join(root, 'net', 'addrs');
}

/** the lowest free address of the subnet for `id` (a file per address, under the lock) */
export function allocateAddress(root: string, id: string, subnet: Subnet): string {
  return withNetLock(root, () => {
    const dir = addrDir(root);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const taken = new Set(fs.readdirSync(dir));
    for (let a = subnet.first; a <= subnet.last; a++) {
      const ip = ipToString(a);
      if (taken.has(ip)) continue;
      fs.writeFileSync(join(dir, ip), `${id}\n`, { flag: 'wx', mode: 0o600 });
      return ip;
    }
    throw new NetworkError(`no free address left in ${ipToString(subnet.network)}/${subnet.prefix}`);
  });
}

/** release the address only if it is still id's */
export function releaseAddress(root: string, id: string, ip: string): void {
  if (parseIp(ip) === undefined) return;
  withNetLock(root, () => {
    const f = join(addrDir(root), ip);
    try {
      if (fs.readFileSync(f, 'utf8').trim() === id) fs.rmSync(f, { force: true });
    } catch {
      /* already gone */
    }
  });
}

// ---------------------------------------------------------------- links, with ip(8)

export type IpRunner = (args: string[], opts?: { input?: string; netnsPid?: number }) => { code: number; err: string; out: string };

/** `ip ARGS`, or `nsenter --net=/proc/PID/ns/net ip ARGS` for the container's side */
export const realIp: IpRunner = (args, opts = {}) => {
  const argv = opts.netnsPid !== undefined ? ['nsenter', `--net=/proc/${opts.netnsPid}/ns/net`, '--', 'ip', ...args] : ['ip', ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input: opts.input ?? '', timeout: 30000 });
  return { code: r.status ?? 1, err: (r.stderr ?? '').trim(), out: r.stdout ?? '' };
};

function must(ip: IpRunner, what: string, args: string[], opts?: { input?: string; netnsPid?: number }): string {
  const r = ip(args, opts);
  if (r.code !== 0) throw new NetworkError(`${what}: ip ${args.join(' ')}: ${r.err.split('\n')[0] || `exit ${r.code}`}`);
  return r.out;
}

/** the bridge with the subnet's first address, up; made once, under the lock (two first containers at once) */
export function ensureBridge(root: string, bridge: string, subnet: Subnet, ip: IpRunner = realIp): void {
  withNetLock(root, () => {
    const want = `${ipToString(subnet.gateway)}/${subnet.prefix}`;
    if (ip(['link', 'show', 'dev', bridge]).code !== 0) {
      must(ip, `bridge ${bridge}`, ['link', 'add', 'name', bridge, 'type', 'bridge']);
      must(ip, `bridge ${bridge}`, ['addr', 'add', want, 'dev', bridge]);
    } else {
      const out = must(ip, `bridge ${bridge}`, ['-o', '-4', 'addr', 'show', 'dev', bridge]);
      const have = [...out.matchAll(/ inet (\S+)/g)].map((m) => m[1]!);
      if (!have.includes(want)) {
        if (have.length) throw new NetworkError(`bridge ${bridge} has ${have.join(', ')}, not ${want} (another --subnet uses it)`);
        must(ip, `bridge ${bridge}`, ['addr', 'add', want, 'dev', bridge]);
      }
    }
    must(ip, `bridge ${bridge}`, ['link', 'set', 'dev', bridge, 'up']);
  });
}

/** the veth pair into the container's netns (by its init pid), its address and route; undone on failure */
export function connectContainer(rec: NetRecord, initPid: number, ip: IpRunner = realIp): void {
  must(ip, 'veth', ['link', 'add', 'name', rec.hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(initPid)]);
  try {
    must(ip, 'veth', ['link', 'set', 'dev', rec.hostVeth, 'master', rec.bridge, 'up']);
    must(ip, 'container network', ['-batch', '-'], {
      netnsPid: initPid,
      input: `link set dev lo up\naddr add ${rec.ip}/${rec.prefix} dev eth0\nlink set dev eth0 up\nroute add default via ${rec.gateway} dev eth0\n`,
    });
  } catch (e) {
    ip(['link', 'del', 'dev', rec.hostVeth]);
    throw e;
  }
}

/** the host end (and with it the container's), if still there */
export function disconnectContainer(rec: NetRecord, ip: IpRunner = realIp): void {
  if (ip(['link', 'show', 'dev', rec.hostVeth]).code === 0) ip(['link', 'del', 'dev', rec.hostVeth]);
}

export function readNetRecord(dir: string): NetRecord | undefined {
  try {
    const f = join(dir, 'net.json');
    const st = fs.lstatSync(f, { throwIfNoEntry: false });
    if (!st?.isFile() || st.size > 64 * 1024) return undefined;
    const r = JSON.parse(fs.readFileSync(f, 'utf8')) as NetRecord;
    return r.mode === 'bridge' && typeof r.ip === 'string' && typeof r.hostVeth === 'string' && /^vhs[0-9a-f]{12}$/.test(r.hostVeth) ? r : undefined;
  } catch {
    return undefined;
  }
}
