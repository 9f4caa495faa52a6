/**
 * `hostscope run|ps|stop|kill|rm|logs|wait|inspect|exec` — docker-like containers on runc-ts,
 * one native monitor per container (src/container/, src/native/c/monitor.c).
 *
 * The store lives under /run/hostscope (HOSTSCOPE_RUN_ROOT moves it: tests use their own).
 */
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { isatty } from 'node:tty';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { getoptLong } from './getopt.js';
import { helpText, versionLine, type OptionSpec } from './options.js';
import { CliError, EXIT_OK, runHandler, UsageError, type Deps } from './common.js';
import { RunConfigError } from '../src/container/config.js';
import { Store, StoreError } from '../src/container/store.js';
import {
  ContainerError,
  defaultEngine,
  execFailure,
  killContainer,
  parseSignal,
  psRows,
  removeContainer,
  startContainer,
  status,
  stopContainer,
  waitExit,
  updateContainer,
  readStats,
  type EngineOptions,
  type LogLine,
} from '../src/container/engine.js';
import { escapeControl } from '../src/render/escape.js';
import { connectContainer, ensureBridge, NetworkError, parseSubnet, readNetRecord } from '../src/container/network.js';
import { openSource } from '../src/source/source.js';
import { passwdNames, readClock, renderTop, topRows } from '../src/container/top.js';

type Main = (argv: string[], deps: Deps) => Promise<number>;

function engine(): EngineOptions {
  return defaultEngine(process.env.HOSTSCOPE_RUN_ROOT || undefined);
}
function store(): Store {
  return new Store(process.env.HOSTSCOPE_RUN_ROOT || undefined);
}

/** parse with getopt_long; `stopAtOperand` (run, exec) leaves the container's command alone */
function parse(prog: string, argv: string[], specs: OptionSpec[], stopAtOperand: boolean) {
  let shorts = stopAtOperand ? '+' : '';
  for (const s of specs) if (s.short) shorts += s.short + (s.arg === 'required' ? ':' : '');
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s.long]));
  // every verb answers --version (long only: docker's verbs give -v and -V no such meaning)
  const r = getoptLong(argv, shorts, (specs.includes(VERSION) ? specs : [...specs, VERSION]).map((s) => ({ name: s.long, arg: s.arg, key: s.long })));
  if (!r.ok) throw new UsageError(r.message.replace(/^[^:]*: /, ''));
  if (r.options.some((o) => o.key === 'version')) throw new VersionAsked();
  const values = new Map<string, string[]>();
  for (const o of r.options) {
    const k = byShort.get(o.key) ?? o.key;
    values.set(k, [...(values.get(k) ?? []), o.value ?? '']);
  }
  return { all: (k: string) => values.get(k) ?? [], last: (k: string) => values.get(k)?.at(-1), has: (k: string) => values.has(k), rest: r.rest, prog };
}

/** `--version` seen by parse: answered by wrap, which knows the verb and where to write */
class VersionAsked extends Error {}

function wrap(prog: string, fn: (argv: string[], deps: Deps) => Promise<number>): Main {
  return (argv, deps) =>
    runHandler(`hostscope ${prog}`, deps, async () => {
      try {
        return await fn(argv, deps);
      } catch (e) {
        if (e instanceof VersionAsked) return deps.stdout.write(versionLine(`hostscope ${prog}`)), EXIT_OK;
        if (e instanceof ContainerError) throw new CliError(e.message, e.exitCode);
        if (e instanceof RunConfigError || e instanceof StoreError) throw new CliError(e.message);
        throw e;
      }
    });
}

const HELP: OptionSpec = { long: 'help', arg: 'none', help: 'display this help' };
const VERSION: OptionSpec = { long: 'version', arg: 'none', help: 'display version' };

// ---------------------------------------------------------------- run

const RUN_OPTS: OptionSpec[] = [
  { long: 'detach', short: 'd', arg: 'none', help: 'run in the background and print the container id' },
  { long: 'rm', arg: 'none', help: 'remove the container when it exits' },
  { long: 'interactive', short: 'i', arg: 'none', help: "keep the container's stdin open and feed it this one" },
  { long: 'tty', short: 't', arg: 'none', help: 'give the container a terminal (a pty held by its monitor)' },
  { long: 'name', arg: 'required', argName: '<name>', help: 'name the container' },
  { long: 'rootfs', arg: 'required', argName: '<dir>', help: 'use this directory as the root filesystem (in place of IMAGE)' },
  { long: 'entrypoint', arg: 'required', argName: '<cmd>', help: "replace the image's entrypoint (and drop its default command)" },
  { long: 'hostname', short: 'h', arg: 'required', argName: '<name>', help: 'container host name (default: the short id)' },
  { long: 'env', short: 'e', arg: 'required', argName: '<K=V>', help: 'set an environment variable (K alone: take it from here)' },
  { long: 'env-file', arg: 'required', argName: '<file>', help: 'read variables from a file of K=V lines' },
  { long: 'workdir', short: 'w', arg: 'required', argName: '<dir>', help: 'working directory inside' },
  { long: 'user', short: 'u', arg: 'required', argName: '<uid[:gid]>', help: 'user to run as (numbers)' },
  { long: 'memory', short: 'm', arg: 'required', argName: '<size>', help: 'memory limit (b, k, m, g)' },
  { long: 'memory-swap', arg: 'required', argName: '<size>', help: 'memory plus swap limit (-1: unlimited)' },
  { long: 'pids-limit', arg: 'required', argName: '<n>', help: 'process limit (-1: unlimited)' },
  { long: 'cpus', arg: 'required', argName: '<n>', help: 'CPUs (a decimal: quota over a 100 ms period)' },
  { long: 'cpu-shares', short: 'c', arg: 'required', argName: '<n>', help: 'CPU weight (2..262144)' },
  { long: 'cap-add', arg: 'required', argName: '<cap>', help: 'add a capability (ALL, with or without CAP_)' },
  { long: 'cap-drop', arg: 'required', argName: '<cap>', help: 'drop a capability (ALL, with or without CAP_)' },
  { long: 'privileged', arg: 'none', help: "all of this host's capabilities, all devices, no seccomp" },
  { long: 'read-only', arg: 'none', help: 'mount the root filesystem read-only' },
  { long: 'volume', short: 'v', arg: 'required', argName: '<host:ctr[:ro]>', help: 'bind a host directory' },
  { long: 'tmpfs', arg: 'required', argName: '<dir[:opts]>', help: 'mount a tmpfs' },
  { long: 'userns', arg: 'required', argName: '<mode>', help: 'host, auto (100000:65536) or HOSTID:SIZE' },
  { long: 'net', arg: 'required', argName: '<mode>', help: 'bridge, none, host or container:NAME (default: a new empty one)' },
  { long: 'network', arg: 'required', argName: '<mode>', help: 'same as --net' },
  { long: 'subnet', arg: 'required', argName: '<cidr>', help: 'with --net bridge: the bridge\'s subnet (default $HOSTSCOPE_SUBNET or 10.88.0.0/16)' },
  { long: 'pid', arg: 'required', argName: '<mode>', help: 'host or container:NAME' },
  { long: 'ipc', arg: 'required', argName: '<mode>', help: 'host or container:NAME' },
  { long: 'uts', arg: 'required', argName: '<mode>', help: 'host' },
  { long: 'seccomp', arg: 'required', argName: '<profile>', help: "default (docker's), unconfined, or a JSON file" },
  { long: 'security-opt', arg: 'required', argName: '<opt>', help: 'seccomp=PROFILE (docker spelling)' },
  { long: 'label', short: 'l', arg: 'required', argName: '<K=V>', help: 'set a label' },
  HELP,
  VERSION,
];

function readFileFor(option: string, path: string): { path: string; text: string } {
  try {
    const st = fs.statSync(path);
    if (!st.isFile()) throw new CliError(`${option} ${path}: not a regular file`);
    if (st.size > 4 * 1024 * 1024) throw new CliError(`${option} ${path}: larger than 4 MiB`);
    return { path, text: fs.readFileSync(path, 'utf8') };
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`${option} ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}`);
  }
}

async function runCmd(argv: string[], deps: Deps): Promise<number> {
  const o = parse('run', argv, RUN_OPTS, true);
  if (o.has('help')) {
    deps.stdout.write(helpText(['hostscope run [options] IMAGE [COMMAND [ARG...]]', 'hostscope run [options] --rootfs DIR COMMAND [ARG...]'], RUN_OPTS, ["IMAGE: busybox (built from the host's busybox-static), or oci:DIR[:TAG] (an OCI image layout, unpacked; its Env, Cmd, Entrypoint, WorkingDir and User are the defaults)."]));
    return EXIT_OK;
  }
  const rest = [...o.rest];
  const rootfs = o.last('rootfs');
  let image: string;
  if (rootfs !== undefined) image = rootfs;
  else {
    const img = rest.shift();
    if (img === undefined) throw new UsageError('"run" needs an IMAGE (busybox, oci:DIR[:TAG]) or --rootfs DIR');
    if (img !== 'busybox' && !img.startsWith('oci:')) throw new CliError(`unknown image '${img}' (busybox, oci:DIR[:TAG], or --rootfs DIR)`);
    image = img;
  }
  let seccomp = o.last('seccomp');
  for (const so of o.all('security-opt')) {
    if (so.startsWith('seccomp=')) seccomp = so.slice(8);
    else throw new CliError(`--security-opt ${so}: only seccomp=PROFILE is supported`);
  }
  const seccompFile = seccomp !== undefined && seccomp !== 'default' && seccomp !== 'unconfined' ? readFileFor('--seccomp', seccomp) : undefined;
  const detach = o.has('detach');
  const rm = o.has('rm');
  const e = engine();
  const name = o.last('name');
  const id = await startContainer(e, {
    flags: {
      ...(name !== undefined ? { name } : {}),
      image,
      args: rest,
      ...(o.last('hostname') !== undefined ? { hostname: o.last('hostname') } : {}),
      env: o.all('env'),
      envFiles: o.all('env-file').map((f) => readFileFor('--env-file', f)),
      ...(o.last('workdir') !== undefined ? { workdir: o.last('workdir') } : {}),
      ...(o.last('user') !== undefined ? { user: o.last('user') } : {}),
      ...(o.last('memory') !== undefined ? { memory: o.last('memory') } : {}),
      ...(o.last('memory-swap') !== undefined ? { memorySwap: o.last('memory-swap') } : {}),
      ...(o.last('pids-limit') !== undefined ? { pidsLimit: o.last('pids-limit') } : {}),
      ...(o.last('cpus') !== undefined ? { cpus: o.last('cpus') } : {}),
      ...(o.last('cpu-shares') !== undefined ? { cpuShares: o.last('cpu-shares') } : {}),
      capAdd: o.all('cap-add'),
      capDrop: o.all('cap-drop'),
      privileged: o.has('privileged'),
      readOnly: o.has('read-only'),
      volumes: o.all('volume'),
      tmpfs: o.all('tmpfs'),
      ...(o.last('userns') !== undefined ? { userns: o.last('userns') } : {}),
      ...(o.last('net') ?? o.last('network')) !== undefined ? { net: (o.last('net') ?? o.last('network'))! } : {},
      ...(o.last('pid') !== undefined ? { pid: o.last('pid') } : {}),
      ...(o.last('ipc') !== undefined ? { ipc: o.last('ipc') } : {}),
      ...(o.last('uts') !== undefined ? { uts: o.last('uts') } : {}),
      ...(seccomp !== undefined ? { seccomp } : {}),
      ...(seccompFile ? { seccompFile } : {}),
      labels: o.all('label'),
      ...(o.has('tty') ? { tty: true } : {}),
      ...(o.last('subnet') !== undefined ? { subnet: o.last('subnet') } : {}),
    },
    ...(rootfs !== undefined ? { rootfs } : {}),
    ...(image.startsWith('oci:') ? { ociImage: image } : {}),
    ...(o.last('entrypoint') !== undefined ? { entrypoint: o.last('entrypoint') } : {}),
    detach,
    rm,
    ...(o.has('interactive') ? { interactive: true } : {}),
    ...(o.has('tty') ? { tty: { rows: process.stdout.isTTY ? process.stdout.rows || 24 : 24, cols: process.stdout.isTTY ? process.stdout.columns || 80 : 80 } } : {}),
  });
  if (detach) {
    // with --rm the monitor runs `hostscope rm ID` once the container has exited
    deps.stdout.write(`${id}\n`);
    return EXIT_OK;
  }
  // foreground: follow the log until the container exits, then its status is ours
  const s = e.store;
  const dir = s.dir(id);
  let off = 0;
  const pump = () => {
    const size = fileSize(join(dir, 'ctr.log'));
    if (size <= off) return;
    const { lines, next } = readLogFrom(dir, off);
    off = next;
    for (const l of lines) (l.stream === 'stdout' ? deps.stdout : deps.stderr).write(l.log);
  };
  const input = o.has('interactive') ? attachStdin(join(dir, 'stdin'), o.has('tty')) : undefined;
  let exit;
  try {
    exit = await follow();
  } finally {
    input?.close();
  }
  if (rm) await removeContainer(s, id, true, e, (m) => deps.stderr.write(`hostscope run: warning: ${m}\n`));
  return exit.exitCode;

  async function follow() {
    for (;;) {
      pump();
      const st = status(s, id);
      if (st.state === 'exited') {
        pump();
        return st.exit;
      }
      if (st.state === 'dead') throw new CliError(`container ${id.slice(0, 12)}: its monitor is gone`);
      await sleep(20);
    }
  }
}

/**
 * -i: this process's stdin into the monitor's FIFO (DIR/stdin), as docker's attach does; with -t
 * and a terminal here, raw mode (the container's pty does the line editing and echo). Returns
 * what undoes it.
 */
function attachStdin(fifo: string, tty: boolean): { close: () => void } {
  let fd: number;
  try {
    // non-blocking: a container that has already ended (no reader) must not hang us
    fd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
  } catch {
    return { close: () => undefined };
  }
  const sock = new net.Socket({ fd, readable: false, writable: true });
  sock.on('error', () => undefined); // the container closed its stdin: the rest is dropped, as docker does
  const stdin = process.stdin;
  const raw = tty && stdin.isTTY;
  if (raw) {
    stdin.setRawMode(true);
    // libuv's raw mode keeps ONLCR: the container's pty already sent \r\n (setRawMode(false)
    // restores the whole saved termios)
    spawnSync('stty', ['-onlcr'], { stdio: ['inherit', 'ignore', 'ignore'] });
  }
  stdin.pipe(sock);
  return {
    close: () => {
      stdin.unpipe(sock);
      if (raw) stdin.setRawMode(false);
      stdin.destroy();
      sock.destroy();
    },
  };
}

function fileSize(p: string): number {
  try {
    return fs.statSync(p).size;
  } catch {
    return 0;
  }
}

/** complete lines from offset: the lines and the offset after the last newline */
function readLogFrom(dir: string, off: number): { lines: LogLine[]; next: number } {
  const p = join(dir, 'ctr.log');
  let fd: number;
  try {
    fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch {
    return { lines: [], next: off };
  }
  try {
    const size = Math.min(fs.fstatSync(fd).size - off, 16 * 1024 * 1024);
    if (size <= 0) return { lines: [], next: off };
    const buf = Buffer.alloc(size);
    const n = fs.readSync(fd, buf, 0, size, off);
    const nl = buf.subarray(0, n).lastIndexOf(10);
    if (nl < 0) return { lines: [], next: off };
    return { lines: readLogText(buf.subarray(0, nl + 1).toString('utf8')), next: off + nl + 1 };
  } finally {
    fs.closeSync(fd);
  }
}
function readLogText(t: string): LogLine[] {
  const out: LogLine[] = [];
  for (const l of t.split('\n'))
    if (l)
      try {
        out.push(JSON.parse(l) as LogLine);
      } catch {
        /* not a record */
      }
  return out;
}

// ---------------------------------------------------------------- ps

const PS_OPTS: OptionSpec[] = [
  { long: 'all', short: 'a', arg: 'none', help: 'show all containers (default: running ones)' },
  { long: 'quiet', short: 'q', arg: 'none', help: 'only the ids' },
  { long: 'no-trunc', arg: 'none', help: 'do not shorten ids and commands' },
  { long: 'format', arg: 'required', argName: '<table|json>', help: 'output format' },
  HELP,
  VERSION,
];

async function psCmd(argv: string[], deps: Deps): Promise<number> {
  const o = parse('ps', argv, PS_OPTS, false);
  if (o.has('help')) return deps.stdout.write(helpText(['hostscope ps [options]'], PS_OPTS)), EXIT_OK;
  if (o.rest.length) throw new UsageError(`unexpected argument '${o.rest[0]}'`);
  const fmt = o.last('format') ?? 'table';
  if (fmt !== 'table' && fmt !== 'json') throw new UsageError(`unknown format '${fmt}' (table or json)`);
  const s = store();
  // exited `run -d --rm` containers go now
  for (const r of psRows(s, true)) if (r.state === 'exited' && s.record(r.id)?.rm) await removeContainer(s, r.id, false, engine()).catch(() => undefined);
  const rows = psRows(s, o.has('all'));
  const full = o.has('no-trunc');
  if (o.has('quiet')) {
    for (const r of rows) deps.stdout.write(`${full ? r.id : r.id.slice(0, 12)}\n`);
    return EXIT_OK;
  }
  if (fmt === 'json') {
    for (const r of rows) deps.stdout.write(`${JSON.stringify({ ID: r.id, Names: r.name, Image: r.image, Command: r.command, CreatedAt: s.record(r.id)?.created, RunningFor: r.created, Status: r.status, State: r.state, Pid: r.pid ?? 0 })}\n`);
    return EXIT_OK;
  }
  const cols = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'NAMES'];
  const table = rows.map((r) => {
    const cmd = escapeControl(r.command);
    return [full ? r.id : r.id.slice(0, 12), escapeControl(r.image), `"${full || cmd.length <= 20 ? cmd : `${cmd.slice(0, 19)}…`}"`, r.created, r.status, escapeControl(r.name)];
  });
  // docker's tabwriter: columns padded to the widest cell + 3 spaces
  const w = cols.map((c, i) => Math.max(c.length, ...table.map((t) => t[i]!.length)));
  const line = (cells: string[]) => `${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(w[i]! + 3))).join('')}\n`;
  deps.stdout.write(line(cols));
  for (const t of table) deps.stdout.write(line(t));
  return EXIT_OK;
}

// ---------------------------------------------------------------- stop, kill, rm, wait, logs

async function stopCmd(argv: string[], deps: Deps): Promise<number> {
  const opts: OptionSpec[] = [{ long: 'time', short: 't', arg: 'required', argName: '<secs>', help: 'seconds to wait before SIGKILL (default 10)' }, HELP, VERSION];
  const o = parse('stop', argv, opts, false);
  if (o.has('help')) return deps.stdout.write(helpText(['hostscope stop [-t SECS] CONTAINER...'], opts)), EXIT_OK;
  const t = o.last('time') ?? '10';
  if (!/^\d{1,6}$/.test(t)) throw new UsageError(`invalid value for --time: '${t}'`);
  if (!o.rest.length) throw new UsageError('"stop" needs a container');
  const s = store();
  for (const ref of o.rest) {
    const id = s.resolve(ref);
    await stopContainer(s, id, Number(t));
    deps.stdout.write(`${ref}\n`);
  }
  return EXIT_OK;
}

async function killCmd(argv: string[], deps: Deps): Promise<number> {
  const opts: OptionSpec[] = [{ long: 'signal', short: 's', arg: 'required', argName: '<sig>', help: 'signal (default KILL)' }, HELP, VERSION];
  const o = parse('kill', argv, opts, false);
  if (o.has('help')) return deps.stdout.write(helpText(['hostscope kill [-s SIG] CONTAINER...'], opts)), EXIT_OK;
  const sig = parseSignal(o.last('signal') ?? 'KILL');
  if (!o.rest.length) throw new UsageError('"kill" needs a container');
  const s = store();
  for (const ref of o.rest) {
    killContainer(s, s.resolve(ref), sig);
    deps.stdout.write(`${ref}\n`);
  }
  return EXIT_OK;
}

async function rmCmd(argv: string[], deps: Deps): Promise<number> {
  const opts: OptionSpec[] = [{ long: 'force', short: 'f', arg: 'none', help: 'kill a running container first' }, HELP, VERSION];
  const o = parse('rm', argv, opts, false);
  if (o.has('help')) return deps.stdout.write(helpText(['hostscope rm [-f] CONTAINER...'], opts)), EXIT_OK;
  if (!o.rest.length) throw new UsageError('"rm" needs a container');
  const s = store();
  for (const ref of o.rest) {
    await removeContainer(s, s.resolve(ref), o.has('force'), engine(), (m) => deps.stderr.write(`hostscope rm: warning: ${m}\n`));
    deps.stdout.write(`${ref}\n`);
  }
  return EXIT_OK;
}

async function waitCmd(argv: string[], deps: Deps): Promise<number> {
  const o = parse('wait', argv, [HELP], false);
  if (o.has('help')) return deps.stdout.write('Usage:\n hostscope wait CONTAINER...\n\nBlock until the containers stop; print their exit codes.\n'), EXIT_OK;
  if (!o.rest.length) throw new UsageError('"wait" needs a container');
  const s = store();
  for (const ref of o.rest) deps.stdout.write(`${(await waitExit(s, s.resolve(ref))).exitCode}\n`);
  return EXIT_OK;
}

async function logsCmd(argv: string[], deps: Deps): Promise<number> {
  const opts: OptionSpec[] = [
    { long: 'follow', short: 'f', arg: 'none', help: 'keep printing until the container exits' },
    { long: 'tail', short: 'n', arg: 'required', argName: '<n>', help: 'only the last N lines (all)' },
    { long: 'timestamps', short: 't', arg: 'none', help: 'prefix each line with its RFC 3339 time' },
    HELP,
  VERSION,
  ];
  const o = parse('logs', argv, opts, false);
  if (o.has('help')) return deps.stdout.write(helpText(['hostscope logs [options] CONTAINER'], opts)), EXIT_OK;
  if (o.rest.length !== 1) throw new UsageError('"logs" needs exactly one container');
  const tail = o.last('tail');
  if (tail !== undefined && tail !== 'all' && !/^\d{1,9}$/.test(tail)) throw new UsageError(`invalid value for --tail: '${tail}'`);
  const s = store();
  const id = s.resolve(o.rest[0]!);
  const dir = s.dir(id);
  const out = (l: LogLine) => (l.stream === 'stdout' ? deps.stdout : deps.stderr).write(`${o.has('timestamps') ? `${l.time} ` : ''}${l.log}`);
  let { lines, next } = readLogFrom(dir, 0);
  if (tail !== undefined && tail !== 'all') lines = Number(tail) === 0 ? [] : lines.slice(-Number(tail));
  lines.forEach(out);
  if (!o.has('follow')) return EXIT_OK;
  for (;;) {
    const done = status(s, id).state !== 'running' && status(s, id).state !== 'created';
    const r = readLogFrom(dir, next);
    next = r.next;
    r.lines.forEach(out);
    if (done) return EXIT_OK;
    await sleep(50);
  }
}

async function inspectCmd(argv: string[], deps: Deps): Promise<number> {
  const o = parse('inspect', argv, [HELP], false);
  if (o.has('help')) return deps.stdout.write('Usage:\n hostscope inspect CONTAINER...\n\nThe container as JSON: what run was asked, its state and the generated config.json.\n'), EXIT_OK;
  if (!o.rest.length) throw new UsageError('"inspect" needs a container');
  const s = store();
  const out = o.rest.map((ref) => {
    const id = s.resolve(ref);
    const rec = s.record(id)!;
    const st = status(s, id);
    let config: unknown;
    try {
      config = JSON.parse(fs.readFileSync(join(s.dir(id), 'config.json'), 'utf8'));
    } catch {
      config = null;
    }
    return {
      Id: id,
      Name: rec.name,
      Image: rec.image,
      Created: rec.created,
      Path: rec.command[0],
      Args: rec.command.slice(1),
      State: {
        Status: st.state,
        Running: st.state === 'running',
        Pid: st.state === 'running' ? st.pid : 0,
        ExitCode: st.state === 'exited' ? st.exit.exitCode : 0,
        FinishedAt: st.state === 'exited' ? st.exit.finishedAt : null,
      },
      NetworkSettings: netSettings(s.dir(id)),
      Bundle: s.dir(id),
      LogPath: join(s.dir(id), 'ctr.log'),
      Config: config,
    };
  });
  deps.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
  return EXIT_OK;
}

function netSettings(dir: string) {
  const n = readNetRecord(dir);
  return n ? { Bridge: n.bridge, IPAddress: n.ip, IPPrefixLen: n.prefix, Gateway: n.gateway, HostVeth: n.hostVeth, Subnet: n.subnet } : null;
}

// ---------------------------------------------------------------- net-hook (the monitor's, not for people)

/** `hostscope net-hook ID PID`: run by the monitor between create and start for `--net bridge` */
async function netHookCmd(argv: string[], _deps: Deps): Promise<number> {
  const [ref, pidText] = argv;
  if (ref === undefined || pidText === undefined || !/^[1-9]\d{0,9}$/.test(pidText)) throw new UsageError('usage: hostscope net-hook ID INIT-PID (run by the monitor)');
  const s = store();
  const id = s.resolve(ref);
  const rec = readNetRecord(s.dir(id));
  if (!rec) throw new CliError(`container ${id.slice(0, 12)}: no network record (net.json)`);
  try {
    ensureBridge(s.root, rec.bridge, parseSubnet(rec.subnet));
    connectContainer(rec, Number(pidText));
  } catch (e) {
    if (e instanceof NetworkError) throw new CliError(e.message);
    throw e;
  }
  return EXIT_OK;
}

// ---------------------------------------------------------------- exec

async function execCmd(argv: string[], deps: Deps): Promise<number> {
  const opts: OptionSpec[] = [
    { long: 'interactive', short: 'i', arg: 'none', help: 'keep stdin open' },
    { long: 'tty', short: 't', arg: 'none', help: 'give the command a pty of its own (without a terminal here: the stdio as it is)' },
    { long: 'user', short: 'u', arg: 'required', argName: '<uid[:gid]>', help: 'user inside' },
    { long: 'env', short: 'e', arg: 'required', argName: '<K=V>', help: 'set a variable' },
    { long: 'workdir', short: 'w', arg: 'required', argName: '<dir>', help: 'working directory inside' },
    HELP,
  VERSION,
  ];
  const o = parse('exec', argv, opts, true);
  if (o.has('help')) return deps.stdout.write(helpText(['hostscope exec [options] CONTAINER COMMAND [ARG...]'], opts)), EXIT_OK;
  const [ref, ...cmd] = o.rest;
  if (ref === undefined || cmd.length === 0) throw new UsageError('"exec" needs a container and a command');
  const s = store();
  const id = s.resolve(ref);
  const st = status(s, id);
  if (st.state !== 'running') throw new CliError(`container ${ref} is not running`);
  // runc-ts exec: the init's namespaces and cgroup, and the container's process settings
  // (capabilities, seccomp filter, no_new_privs, user, env, cwd) as runc applies them
  const e = engine();
  const u = o.last('user');
  if (u !== undefined && !/^\d{1,10}(?::\d{1,10})?$/.test(u)) throw new UsageError(`invalid value for --user: '${u}' (UID[:GID], numbers)`);
  const w = o.last('workdir');
  if (w !== undefined && !w.startsWith('/')) throw new UsageError(`invalid value for --workdir: '${w}' (an absolute path)`);
  for (const kv of o.all('env')) if (kv.indexOf('=') <= 0) throw new UsageError(`invalid value for --env: '${kv}' (K=V)`);
  const args = [
    ...e.runtime.slice(1),
    ...(e.runtimeRoot ? ['--root', e.runtimeRoot] : []),
    'exec',
    ...(u !== undefined ? ['--user', u] : []),
    ...(w !== undefined ? ['--cwd', w] : []),
    ...o.all('env').flatMap((kv) => ['--env', kv]),
    // -t with a terminal here: runc-ts exec -t makes the command a pty of its own (its controlling
    // terminal: job control, ^C) and proxies it to this terminal, in raw mode, as runc exec -t
    ...(o.has('tty') && [0, 1, 2].some((fd) => isatty(fd)) ? ['-t'] : []),
    id,
    ...cmd,
  ];
  // -t without a terminal here: the command gets the stdio as it is (pass-through); -i: this stdin
  const tty = o.has('tty');
  const r = spawnSync(e.runtime[0]!, args, { stdio: tty ? 'inherit' : [o.has('interactive') ? 'inherit' : 'ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  if (r.stdout) deps.stdout.write(r.stdout.toString());
  const err = r.stderr?.toString() ?? '';
  // runc exec's 255 for a command it could not run (its last line): docker's one line and status (127, 126)
  const lines = err.trimEnd().split('\n');
  const failed = r.status === 255 ? execFailure(lines.at(-1)!) : undefined;
  if (failed) {
    if (lines.length > 1) deps.stderr.write(`${lines.slice(0, -1).join('\n')}\n`);
    throw failed;
  }
  deps.stderr.write(err);
  return r.status ?? 128 + 9;
}

// ---------------------------------------------------------------- top, update, stats

async function topCmd(argv: string[], deps: Deps): Promise<number> {
  const o = parse('top', argv, [HELP], false);
  if (o.has('help')) return deps.stdout.write("Usage:\n hostscope top CONTAINER\n\nThe container's processes with host pids, as docker top (ps -ef columns), read by our own model.\n"), EXIT_OK;
  if (o.rest.length !== 1) throw new UsageError('"top" needs exactly one container');
  const s = store();
  const id = s.resolve(o.rest[0]!);
  if (status(s, id).state !== 'running') throw new CliError(`container ${o.rest[0]} is not running`);
  const src = openSource();
  const rows = topRows(src, id);
  if (!rows) throw new CliError(`container ${o.rest[0]}: no processes found`);
  deps.stdout.write(renderTop(rows, readClock(src), passwdNames(src)));
  return EXIT_OK;
}

const UPDATE_OPTS: OptionSpec[] = [
  { long: 'memory', short: 'm', arg: 'required', argName: '<size>', help: 'memory limit (b, k, m, g)' },
  { long: 'memory-swap', arg: 'required', argName: '<size>', help: 'memory plus swap limit (-1: unlimited)' },
  { long: 'pids-limit', arg: 'required', argName: '<n>', help: 'process limit (-1: unlimited)' },
  { long: 'cpus', arg: 'required', argName: '<n>', help: 'CPUs (a decimal)' },
  { long: 'cpu-shares', short: 'c', arg: 'required', argName: '<n>', help: 'CPU weight (2..262144)' },
  HELP,
  VERSION,
];

async function updateCmd(argv: string[], deps: Deps): Promise<number> {
  const o = parse('update', argv, UPDATE_OPTS, false);
  if (o.has('help')) return deps.stdout.write(helpText(['hostscope update [options] CONTAINER...'], UPDATE_OPTS)), EXIT_OK;
  if (!o.rest.length) throw new UsageError('"update" needs a container');
  const s = store();
  const f = {
    ...(o.last('memory') !== undefined ? { memory: o.last('memory')! } : {}),
    ...(o.last('memory-swap') !== undefined ? { memorySwap: o.last('memory-swap')! } : {}),
    ...(o.last('pids-limit') !== undefined ? { pidsLimit: o.last('pids-limit')! } : {}),
    ...(o.last('cpus') !== undefined ? { cpus: o.last('cpus')! } : {}),
    ...(o.last('cpu-shares') !== undefined ? { cpuShares: o.last('cpu-shares')! } : {}),
  };
  for (const ref of o.rest) {
    updateContainer(s, s.resolve(ref), f);
    deps.stdout.write(`${ref}\n`);
  }
  return EXIT_OK;
}

/** docker's units.BytesSize: binary, 4 significant digits (`1.5MiB`, `64MiB`) */
export function bytesSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

async function statsCmd(argv: string[], deps: Deps): Promise<number> {
  const opts: OptionSpec[] = [{ long: 'no-stream', arg: 'none', help: 'one sample, then exit' }, { long: 'all', short: 'a', arg: 'none', help: '(accepted: only running containers have stats)' }, HELP, VERSION];
  const o = parse('stats', argv, opts, false);
  if (o.has('help')) return deps.stdout.write(helpText(['hostscope stats [--no-stream] [CONTAINER...]'], opts)), EXIT_OK;
  const s = store();
  const ids = o.rest.length ? o.rest.map((r) => s.resolve(r)) : psRows(s, false).map((r) => r.id);
  const hostMem = Number(/^MemTotal:\s+(\d+) kB/m.exec(openSource().readProcText('meminfo'))?.[1] ?? 0) * 1024;
  const ncpu = Math.max(1, (await import('node:os')).availableParallelism());
  const sample = () => new Map(ids.map((id) => [id, readStats(s, id)] as const));
  for (;;) {
    const a = sample();
    const t0 = process.hrtime.bigint();
    await sleep(1000);
    const b = sample();
    const dt = Number(process.hrtime.bigint() - t0);
    const head = ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'PIDS'];
    const rows = ids.map((id) => {
      const x = a.get(id)!;
      const y = b.get(id)!;
      const cpu = x.cpuNs !== undefined && y.cpuNs !== undefined ? `${(((y.cpuNs - x.cpuNs) / dt) * 100).toFixed(2)}%` : '--';
      const lim = y.memLimit !== undefined && y.memLimit < hostMem ? y.memLimit : hostMem;
      const mem = y.memUsage !== undefined ? `${bytesSize(y.memUsage)} / ${bytesSize(lim)}` : '--';
      const memPct = y.memUsage !== undefined && lim ? `${((y.memUsage / lim) * 100).toFixed(2)}%` : '--';
      return [id.slice(0, 12), escapeControl(y.name), cpu, mem, memPct, y.pids !== undefined ? String(y.pids) : '--'];
    });
    void ncpu;
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)) + 3);
    const line = (c: string[]) => `${c.map((x, i) => (i === c.length - 1 ? x : x.padEnd(w[i]!))).join('')}\n`;
    deps.stdout.write(line(head) + rows.map(line).join(''));
    if (o.has('no-stream')) return EXIT_OK;
  }
}

export const CONTAINER_COMMANDS: Record<string, { describe: string; main: Main }> = {
  run: { describe: 'run a command in a new container (docker run on runc-ts, one native monitor each)', main: wrap('run', runCmd) },
  ps: { describe: 'list containers made by hostscope run', main: wrap('ps', psCmd) },
  stop: { describe: 'stop containers (SIGTERM, then SIGKILL)', main: wrap('stop', stopCmd) },
  kill: { describe: 'send a signal to containers', main: wrap('kill', killCmd) },
  rm: { describe: 'remove containers', main: wrap('rm', rmCmd) },
  logs: { describe: "print a container's output", main: wrap('logs', logsCmd) },
  wait: { describe: 'wait for containers to exit, print their exit codes', main: wrap('wait', waitCmd) },
  inspect: { describe: "a container's record, state and generated config.json", main: wrap('inspect', inspectCmd) },
  exec: { describe: 'run a command inside a running container', main: wrap('exec', execCmd) },
  top: { describe: "a container's processes with host pids (docker top)", main: wrap('top', topCmd) },
  update: { describe: "change a running container's limits", main: wrap('update', updateCmd) },
  stats: { describe: 'CPU, memory and pids of running containers (docker stats)', main: wrap('stats', statsCmd) },
  'net-hook': { describe: "the monitor's --net bridge hook (not for people)", main: wrap('net-hook', netHookCmd) },
};
