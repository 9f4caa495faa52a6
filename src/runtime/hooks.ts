/**
 * OCI hooks (runtime-spec config.md "POSIX-platform Hooks"), run as runc runs them
 * (libcontainer/configs Command.Run, Hooks.Run):
 *
 *   prestart, createRuntime   the runtime's namespaces, during create, before pivot_root (state "creating")
 *   createContainer           the container's namespaces, during create, before pivot_root (state "creating")
 *   startContainer            the container's namespaces and root, during start, before the program (state "created")
 *   poststart                 the runtime's namespaces, after the program started, before start returns (state "running")
 *   poststop                  the runtime's namespaces, after delete removed the container (state "stopped", no pid)
 *
 * Each hook is a native step-runner child: its files opened first (the state JSON as stdin, stdout
 * and stderr captured to files in a private temp dir), then, for the container's hooks, setns into
 * every namespace of the init through its pidfd (and a fork into its pid namespace), a session of
 * its own (setsid), fds above 2 closed, execve(path, args, env). `args` absent: argv is [path];
 * `env` absent: the runtime's environment (Go's exec.Cmd with a nil Env, as runc). A timeout kills
 * the hook's process group (it leads it). Errors are runc's text:
 *   error running createRuntime hook #0: exit status 3, stdout: …, stderr: …
 */
import { environEntries } from '../util/environ.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Hook, HookKind } from './spec.js';
import { O, type PlanStep } from './plan-steps.js';
import { NS_FLAG } from './plan.js';
import type { NamespaceType } from './spec.js';

/** the state hooks get on stdin: runtime-spec's state, in Go's field order (specs.State) */
export interface HookState {
  id: string;
  status: 'creating' | 'created' | 'running' | 'stopped';
  /** the init's pid as the host sees it; absent (poststop) when there is none */
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}

/** runc's specs.Version in the state it gives hooks */
export const HOOK_STATE_OCI_VERSION = '1.0.2-dev';

/** JSON as Go's json.Marshal(specs.State): pid and annotations omitted when empty */
export function hookStateJson(s: HookState): string {
  const o: Record<string, unknown> = { ociVersion: HOOK_STATE_OCI_VERSION, id: s.id, status: s.status };
  if (s.pid) o.pid = s.pid;
  o.bundle = s.bundle;
  if (s.annotations && Object.keys(s.annotations).length) o.annotations = s.annotations;
  return JSON.stringify(o);
}

export class HookError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HookError';
  }
}

/** where a container hook runs: the init's namespaces, entered through a pidfd */
export interface HookNamespaces {
  pidfd: number;
  types: NamespaceType[];
}

/**
 * The step list of one hook run (pure). fds: the files the parent prepared (paths); ns: enter the
 * container's namespaces (createContainer, startContainer).
 */
export function hookSteps(h: Hook, files: { stdin: string; stdout: string; stderr: string }, env: string[], ns?: HookNamespaces): PlanStep[] {
  const steps: PlanStep[] = [
    { op: 'open', path: files.stdin, flags: O.RDONLY | O.NOFOLLOW, reg: 0, label: 'open(hook stdin)' },
    { op: 'open', path: files.stdout, flags: O.WRONLY | O.NOFOLLOW, reg: 1, label: 'open(hook stdout)' },
    { op: 'open', path: files.stderr, flags: O.WRONLY | O.NOFOLLOW, reg: 2, label: 'open(hook stderr)' },
  ];
  if (ns && ns.types.length) {
    let mask = 0;
    for (const t of ns.types) mask |= NS_FLAG[t];
    steps.push({ op: 'setnsPidfd', pidfd: ns.pidfd, mask, label: `setns(${ns.types.join(',')})` });
    if (ns.types.includes('pid')) steps.push({ op: 'fork', label: 'fork (into the pid namespace)' });
  }
  steps.push({ op: 'setsid' });
  for (const fd of [0, 1, 2]) steps.push({ op: 'dup2', from: { reg: fd }, to: fd });
  steps.push({ op: 'closeRange', first: 3, last: 0xffffffff, cloexec: true });
  steps.push({ op: 'exec', file: h.path, argv: h.args && h.args.length ? h.args : [h.path], envp: h.env ?? env, search: false });
  return steps;
}

/** what a hook wrote, bounded (runc puts all of it in the error; 64 KiB each here) */
const MAX_CAPTURE = 64 * 1024;

function readCapture(p: string): string {
  let fd: number;
  try {
    fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return '';
  }
  try {
    const buf = Buffer.alloc(MAX_CAPTURE);
    const n = fs.readSync(fd, buf, 0, MAX_CAPTURE, 0);
    return buf.toString('utf8', 0, n);
  } finally {
    fs.closeSync(fd);
  }
}

export interface RunHookOptions {
  ns?: HookNamespaces;
  /** the environment of hooks without `env` (default: this process's) */
  env?: string[];
}

const runtimeEnv = (): string[] => environEntries();

/** Run one hook; throws the error text runc's Command.Run gives (without the "error running" prefix). */
export async function runHook(h: Hook, state: HookState, o: RunHookOptions = {}): Promise<void> {
  const { runSteps, NativeError } = await import('../native/index.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `runc-ts-hook-${process.pid}-`));
  try {
    const files = { stdin: `${dir}/state.json`, stdout: `${dir}/stdout`, stderr: `${dir}/stderr` };
    fs.writeFileSync(files.stdin, hookStateJson(state), { mode: 0o600, flag: 'wx' });
    fs.writeFileSync(files.stdout, '', { mode: 0o600, flag: 'wx' });
    fs.writeFileSync(files.stderr, '', { mode: 0o600, flag: 'wx' });
    let child;
    try {
      child = await runSteps(hookSteps(h, files, o.env ?? runtimeEnv(), o.ns));
    } catch (e) {
      // Go's exec: "fork/exec /path: no such file or directory"
      if (e instanceof NativeError && e.syscall === 'execve') throw new HookError(`fork/exec ${h.path}: ${e.message.slice('execve: '.length).toLowerCase()}`);
      if (e instanceof NativeError) throw new HookError(`${e.message}${e.path ? ` (${e.path})` : ''}`);
      throw e;
    }
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    if (h.timeout !== undefined) {
      timer = setTimeout(() => {
        timedOut = true;
        // the hook leads its own session and process group: kill what it started too
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.signal(9);
        }
      }, h.timeout * 1000);
    }
    const exit = await child.exited;
    if (timer) clearTimeout(timer);
    if (timedOut) throw new HookError(`hook ran past specified timeout of ${h.timeout!.toFixed(1)}s`);
    if (exit.code === 0) return;
    const why = exit.code !== null ? `exit status ${exit.code}` : `signal: ${signalText(exit.signal ?? 0)}`;
    throw new HookError(`${why}, stdout: ${readCapture(files.stdout)}, stderr: ${readCapture(files.stderr)}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Go's syscall.Signal.String() for the common ones */
function signalText(sig: number): string {
  const names: Record<number, string> = { 1: 'hangup', 2: 'interrupt', 3: 'quit', 6: 'aborted', 9: 'killed', 11: 'segmentation fault', 13: 'broken pipe', 15: 'terminated' };
  return names[sig] ?? `signal ${sig}`;
}

/** runc's Hooks.Run: in order, the first failure stops the list */
export async function runHooks(kind: HookKind, hooks: readonly Hook[] | undefined, state: HookState, o: RunHookOptions = {}): Promise<void> {
  for (const [i, h] of (hooks ?? []).entries()) {
    try {
      await runHook(h, state, o);
    } catch (e) {
      if (e instanceof HookError) throw new HookError(`error running ${kind} hook #${i}: ${e.message}`);
      throw e;
    }
  }
}

/** poststop (the spec: a failure is a warning and the remaining hooks still run) */
export async function runPoststop(hooks: readonly Hook[] | undefined, state: HookState, warn: (m: string) => void): Promise<void> {
  for (const [i, h] of (hooks ?? []).entries()) {
    try {
      await runHook(h, state);
    } catch (e) {
      warn(`error running poststop hook #${i}: ${(e as Error).message}`);
    }
  }
}

/**
 * The hooks of a container as create read them, kept in <state dir>/hooks.json (0600, ours), for
 * start (startContainer, poststart) and delete (poststop): like runc, which keeps the config in its
 * state, a config.json edited after create changes nothing.
 */
export function saveHooks(dir: string, hooks: Partial<Record<HookKind, Hook[]>>): void {
  if (!Object.values(hooks).some((l) => l && l.length)) return;
  fs.writeFileSync(`${dir}/hooks.json`, JSON.stringify(hooks), { mode: 0o600, flag: 'wx' });
}

export async function loadHooks(dir: string): Promise<Partial<Record<HookKind, Hook[]>>> {
  let text: string;
  try {
    const fd = fs.openSync(`${dir}/hooks.json`, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    try {
      const buf = Buffer.alloc(1 << 20);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      text = buf.toString('utf8', 0, n);
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  // validated again as config.json's hooks section (a hostile edit of the state dir is refused by name)
  const { parseSpecText } = await import('./spec.js');
  return parseSpecText(`{"ociVersion":"1.0.2","root":{"path":"rootfs"},"hooks":${text}}`, { apparmor: false, selinux: false }, 'hooks.json').spec.hooks;
}
