/**
 * Image unpack benchmark: `npm run build && node dist/bench/image.js [--mb 50] [--runs 5] [--layers 4]`
 *
 * Builds (in a temp dir, removed at the end) an OCI layout of about `mb` MB of file data in
 * `layers` gzip layers — text and incompressible data, a few thousand files, hard links,
 * symlinks, whiteouts and an opaque dir in the upper layers — then unpacks it, in the same run and
 * in interleaved rounds after one warm-up each:
 *
 * - `ours`      unpackImage() in this process (no Node start-up);
 * - `ours-cli`  `hostscope rootfs unpack` as a subprocess (Node start-up included);
 * - `umoci`     `umoci unpack --image LAYOUT:TAG BUNDLE`, when umoci is installed;
 * - `tar -x`    GNU tar extracting the same layer blobs in order into one dir (`tar -xzpf`,
 *               one sh running them: no digest checks, no whiteouts; the floor).
 *
 * Figures are medians of wall time and CPU time (user + sys; for subprocesses the waited-for
 * children's times from /proc/self/stat, at clock-tick resolution), and each tool's ratio to ours.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { spawnSync, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LayoutBuilder, type BuildEntry } from '../src/image/layout-builder.js';
import { unpackImage } from '../src/image/oci.js';

const ROOT = join(import.meta.dirname, '../..');
const HOSTSCOPE = join(ROOT, 'dist/bin/hostscope.js');

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    process.stderr.write(`image bench: bad --${name}\n`);
    process.exit(1);
  }
  return v;
}

const MB = arg('mb', 50);
const RUNS = arg('runs', 5);
const LAYERS = Math.max(2, Math.floor(arg('layers', 4)));
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** children's user+sys CPU so far, in ms (fields 16 and 17 of /proc/self/stat) */
function childCpuMs(): number {
  const s = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[13]) + Number(f[14])) * 1000) / TICK;
}

function text(n: number, seed: number): Buffer {
  const words = ['namespace', 'cgroup', 'capability', 'seccomp', 'mount', 'layer', 'whiteout', 'digest', 'manifest', 'rootfs'];
  const parts: string[] = [];
  let len = 0;
  let i = seed;
  while (len < n) {
    const w = words[(i = (i * 1103515245 + 12345) & 0x7fffffff) % words.length]!;
    parts.push(w);
    len += w.length + 1;
  }
  return Buffer.from(parts.join(i % 7 === 0 ? '\n' : ' ')).subarray(0, n);
}

/** the layout: about MB megabytes of file data */
function buildLayout(dir: string): { layout: string; files: number; bytes: number; blobs: string[] } {
  const b = new LayoutBuilder(dir);
  const total = MB * 1024 * 1024;
  const perLayer = Math.floor(total / LAYERS);
  const layers: { entries: BuildEntry[] }[] = [];
  let files = 0;
  let bytes = 0;
  for (let l = 0; l < LAYERS; l++) {
    const entries: BuildEntry[] = [{ name: `l${l}/`, type: 'dir' }];
    if (l === 0) entries.push({ name: 'usr/', type: 'dir' }, { name: 'usr/lib/', type: 'dir' }, { name: 'lib', type: 'symlink', linkname: 'usr/lib' }, { name: 'shared/', type: 'dir' });
    let used = 0;
    let k = 0;
    for (let dirN = 0; used < perLayer; dirN++) {
      entries.push({ name: `l${l}/d${dirN}/`, type: 'dir' });
      for (let j = 0; j < 40 && used < perLayer; j++, k++) {
        // sizes from a few hundred bytes to ~256 KiB; a third incompressible (binaries), the rest text
        const size = Math.min(perLayer - used, 300 + ((k * 7919) % (k % 10 === 0 ? 262144 : 16384)));
        const data = k % 3 === 0 ? randomBytes(size) : text(size, k + l * 100000);
        entries.push({ name: `l${l}/d${dirN}/f${j}${k % 17 === 0 ? '-' + 'x'.repeat(120) : ''}`, data, mode: k % 5 === 0 ? 0o755 : 0o644, uid: k % 11 === 0 ? 1000 : 0 });
        if (k % 50 === 0) entries.push({ name: `l${l}/d${dirN}/h${j}`, type: 'hardlink', linkname: `l${l}/d${dirN}/f${j}${k % 17 === 0 ? '-' + 'x'.repeat(120) : ''}` });
        if (k % 30 === 0) entries.push({ name: `l${l}/d${dirN}/s${j}`, type: 'symlink', linkname: `f${j}` });
        used += size;
        files++;
      }
    }
    entries.push({ name: `shared/from-${l}`, data: `layer ${l}\n` }, { name: `lib/lib${l}.so`, data: randomBytes(4096) });
    if (l > 0) {
      // hide part of the layer below: a whiteout of a dir, and an opaque dir
      entries.push({ name: `l${l - 1}/.wh.d0` }, { name: `l${l - 1}/d1/`, type: 'dir' }, { name: `l${l - 1}/d1/.wh..wh..opq` }, { name: `l${l - 1}/d1/new`, data: 'upper' });
    }
    bytes += used;
    layers.push({ entries });
  }
  const m = b.add({ tag: 'bench', layers });
  const manifest = JSON.parse(fs.readFileSync(join(dir, 'blobs/sha256', m.digest.slice(7)), 'utf8')) as { layers: { digest: string }[] };
  return { layout: dir, files, bytes, blobs: manifest.layers.map((x) => join(dir, 'blobs/sha256', x.digest.slice(7))) };
}

interface Tool {
  name: string;
  run(target: string): Promise<{ wallMs: number; cpuMs: number }>;
}

function sub(argv: string[]): { wallMs: number; cpuMs: number } {
  const c0 = childCpuMs();
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${argv.slice(0, 3).join(' ')} failed: ${r.stderr}`);
  return { wallMs, cpuMs: childCpuMs() - c0 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(join(os.tmpdir(), `hostscope-image-bench-${process.pid}-`));
  try {
    const t0 = performance.now();
    const L = buildLayout(join(work, 'layout'));
    const blobBytes = L.blobs.reduce((s, p) => s + fs.statSync(p).size, 0);
    process.stdout.write(
      `image bench: ${LAYERS} gzip layers, ${L.files} files, ${(L.bytes / 1048576).toFixed(1)} MiB of file data, ${(blobBytes / 1048576).toFixed(1)} MiB compressed (built in ${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
    );
    process.stdout.write(`host: ${os.cpus().length} CPUs, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}, ${RUNS} runs each, medians\n\n`);
    const tools: Tool[] = [
      {
        name: 'ours',
        run: async (target) => {
          const c0 = process.cpuUsage();
          const w0 = performance.now();
          await unpackImage(L.layout, 'bench', target);
          const wallMs = performance.now() - w0;
          const c = process.cpuUsage(c0);
          return { wallMs, cpuMs: (c.user + c.system) / 1000 };
        },
      },
    ];
    if (fs.existsSync(HOSTSCOPE)) tools.push({ name: 'ours-cli', run: async (target) => sub([process.execPath, HOSTSCOPE, 'rootfs', 'unpack', `${L.layout}:bench`, target]) });
    if (has('umoci')) tools.push({ name: 'umoci', run: async (target) => sub(['umoci', 'unpack', ...(process.geteuid?.() === 0 ? [] : ['--rootless']), '--image', `${L.layout}:bench`, target]) });
    else process.stdout.write('umoci not installed: skipped (apt-get install -y umoci)\n');
    tools.push({
      name: 'tar -x',
      run: async (target) => {
        fs.mkdirSync(target);
        const script = L.blobs.map((p) => `tar -xzpf '${p}' -C '${target}'`).join(' && ');
        return sub(['sh', '-c', script]);
      },
    });
    const results = new Map<string, { wall: number[]; cpu: number[] }>(tools.map((t) => [t.name, { wall: [], cpu: [] }]));
    let n = 0;
    for (let round = 0; round <= RUNS; round++) {
      for (const t of tools) {
        const target = join(work, `t${n++}`);
        const r = await t.run(target);
        fs.rmSync(target, { recursive: true, force: true });
        if (round === 0) continue; // warm-up
        results.get(t.name)!.wall.push(r.wallMs);
        results.get(t.name)!.cpu.push(r.cpuMs);
      }
    }
    const ours = results.get('ours')!;
    const ow = median(ours.wall);
    const oc = median(ours.cpu);
    process.stdout.write(`${'tool'.padEnd(10)} ${'wall ms'.padStart(9)} ${'cpu ms'.padStart(9)} ${'wall/ours'.padStart(10)} ${'cpu/ours'.padStart(9)}  MiB/s (wall)\n`);
    for (const [name, r] of results) {
      const w = median(r.wall);
      const c = median(r.cpu);
      process.stdout.write(
        `${name.padEnd(10)} ${w.toFixed(0).padStart(9)} ${c.toFixed(0).padStart(9)} ${(w / ow).toFixed(2).padStart(10)} ${(c / oc).toFixed(2).padStart(9)}  ${(L.bytes / 1048576 / (w / 1000)).toFixed(0)}\n`,
      );
    }
    process.stdout.write(`\nload after: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

await main();
