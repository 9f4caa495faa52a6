import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupDumps, dumpArgs, hostileDump } from '../helpers/hostile.js';
import { BIN } from '../helpers/live.js';

/**
 * Every JSON view of cinf and capdecode, on a dump whose host strings hold C1 controls (UTF-8
 * C2 9B and the raw byte 9B), bidi overrides and isolates, line and paragraph separators and
 * zero-width characters: none of them may reach the output bytes raw (jsonText, src/render/escape.ts).
 * nsenter-ts writes no JSON.
 */
const P = 25533; // http-server, in container d397…
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]/u;
const b = (s: string): Buffer => Buffer.from(s, 'utf8');

function dump(): string {
  return hostileDump((r) => {
    const dir = join(r, 'root/var/lib/docker/containers');
    const cfg = readdirSync(dir).map((id) => join(dir, id, 'config.v2.json'));
    for (const p of cfg) {
      const j = JSON.parse(readFileSync(p, 'utf8')) as { Name: string; Config: { Image: string; Labels?: Record<string, string> } };
      j.Name = '/\u202eevil\u2066';
      j.Config.Image = 'img\u2028x\u200by';
      j.Config.Labels = { ...j.Config.Labels, 'com.docker.compose.project': 'pr\u2029oj\ufeff', 'k\u202ey': 'v\u0085' };
      writeFileSync(p, JSON.stringify(j));
    }
    const pd = join(r, 'proc', String(P));
    const stat = readFileSync(join(pd, 'stat'), 'latin1').replace('(http-server)', '(h\u00c2\u009b\u00e2\u0080\u00aet)');
    writeFileSync(join(pd, 'stat'), Buffer.from(stat, 'latin1'));
    writeFileSync(join(pd, 'comm'), Buffer.concat([b('h\u009b\u202et'), Buffer.from([0x9b, 0x0a])]));
    writeFileSync(join(pd, 'cmdline'), Buffer.concat([b('srv\u2028\u200d'), Buffer.from([0x9b, 0]), b('--x\u2066\u0085'), Buffer.from([0])]));
    writeFileSync(join(pd, 'environ'), Buffer.concat([b('K\u202eEY=v\u2029\u2060'), Buffer.from([0x9b, 0])]));
    writeFileSync(join(pd, 'mountinfo'), Buffer.concat([b('20 1 0:5 / / rw - ext4 /dev/vda1 rw\n21 20 0:6 / /tmp/m\u009b\u202e\u200b rw - tmpfs t\u2028mp rw\n')]));
    // a cgroup outside every container, its directory named with them too
    const name = 'sl\u009b\u202eice\u2028';
    const cg = readFileSync(join(r, 'proc/1046/cgroup'), 'utf8').replace(/system\.slice\/docker\.service/g, name);
    writeFileSync(join(r, 'proc/1046/cgroup'), cg);
    const mem = join(r, 'sys/fs/cgroup/memory');
    mkdirSync(join(mem, name));
    for (const f of ['memory.usage_in_bytes', 'memory.limit_in_bytes', 'cgroup.procs']) {
      try {
        cpSync(join(mem, f), join(mem, name, f));
      } catch {
        writeFileSync(join(mem, name, f), '1046\n');
      }
    }
    appendFileSync(join(r, 'etc/passwd'), 'ev\u202eil\u2028:x:4242:4242::/:/bin/sh\n');
  }, 'v1-docker-seed');
}

afterAll(cleanupDumps, 120_000);

function run(bin: string, root: string, args: string[]): { code: number | null; out: Buffer; err: string } {
  const r = spawnSync(process.execPath, [BIN(bin), ...(bin === 'cinf' ? dumpArgs(root) : ['--proc-root', join(root, 'proc')]), ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, out: r.stdout, err: r.stderr.toString() };
}

describe('JSON views escape what a terminal obeys, on a hostile dump', () => {
  const root = dump();
  const views: [string, string[]][] = [
    ['cinf', ['--json']],
    ['cinf', ['--json', '-o', 'NS,TYPE,NPROCS,USERS,PID,PPID,UID,USER,PATH,HOST,CONTAINER,CMD']],
    ['cinf', ['--json', '--tree']],
    ['cinf', ['--json', '--tree=owner']],
    ['cinf', ['--json', '-t', 'net']],
    ['cinf', ['--json', '--threads']],
    ['cinf', ['--json', '--namespace', '4026532524']],
    ['cinf', ['--json', '--pid', String(P)]],
    ['cinf', ['--json', '--pid', String(P), '--env', '--mounts']],
    ['cinf', ['--json', '--pid', String(P), '--tree']],
    ['cinf', ['--json', '--pid', '1046']],
    ['cinf', ['--json', '--container', 'evil']],
    ['cinf', ['--json', '--container', 'f3b9']],
    ['cinf', ['--json', '--container', 'f3b9', '--tree']],
    ['cinf', ['--json', '--container', 'f3b9', '--env', '--mounts']],
    ['cinf', ['--json', '--cgroups']],
    ['cinf', ['--json', '--cgroups', '--hierarchy', 'all']],
    ['cinf', ['--json', '--cgroup', '1046:memory']],
    ['cinf', ['--json', '--cgroup', `${P}:memory`]],
    ['cinf', ['--json', '--find', '.']],
    ['capdecode', ['--json', '--pid', String(P)]],
    ['capdecode', ['--json', '--pid', String(P), '--print']],
    ['capdecode', ['--json', '--list']],
    ['capdecode', ['--json', '0x3fffffffff']],
  ];

  it.each(views)('%s %j: no raw C0/C1/bidi/separator/zero-width character, valid UTF-8 and JSON', (bin, args) => {
    const r = run(bin, root, args);
    if (r.code !== 0) {
      // a view this dump cannot give (a usage error) writes no JSON: it says so on stderr, in one line
      expect(r.out.length, r.err).toBe(0);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      return;
    }
    const text = r.out.toString('utf8');
    expect(Buffer.from(text, 'utf8').equals(r.out), 'valid UTF-8').toBe(true);
    expect(text.match(RAW)?.[0]).toBeUndefined();
    for (const doc of text.split(/\n(?=\{)/)) expect(() => JSON.parse(doc) as unknown).not.toThrow();
  });

  it('the hostile strings are there, escaped as text (the check above saw them)', () => {
    const c = run('cinf', root, ['--json', '--container', 'f3b9']).out.toString();
    expect(c).toContain('"name": "\\\\u202eevil\\\\u2066"');
    expect(c).toContain('"image": "img\\\\u2028x\\\\u200by"');
    const p = run('cinf', root, ['--json', '--pid', String(P), '--env', '--mounts']).out.toString();
    expect(p).toContain('\\\\u202e');
    expect(p).toContain('\\\\x9b');
    const g = run('cinf', root, ['--json', '--cgroups']).out.toString();
    expect(g).toContain('sl\\\\x9b\\\\u202eice\\\\u2028');
  });
});
