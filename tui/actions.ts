/**
 * What ctop's action keys do to the host: signals, freezing a cgroup. The writer is injected so
 * tests record the writes instead of doing them. Freeze/thaw goes through CgroupManager (async:
 * it waits for the kernel to settle).
 */
import type { ProcSource } from '../src/source/source.js';
import { parseProcCgroup } from '../src/parse/proc-cgroup.js';
import { decodeBytes } from '../src/parse/text.js';
import { hierarchyFor, type CgroupLayout } from '../src/cgroup/layout.js';
import { readCgroupLayout } from '../src/inspect/host.js';
import type { Effects } from './keymap.js';
import { CgroupManager } from '../src/cgroup/manager.js';
import { NodeCgroupFs, type CgroupFs } from '../src/cgroup/fs.js';

export type Killer = (pid: number, signal: 'SIGTERM' | 'SIGKILL') => void;

/** The cgroup path to freeze for a process: its v1 freezer path, else its v2 path (not the root). */
export function freezerPath(layout: CgroupLayout, cgroupText: string): string | undefined {
  const lines = parseProcCgroup(cgroupText);
  for (const line of lines) {
    const h = hierarchyFor(layout, line);
    if (h && h.version === 1 && h.controllers.includes('freezer') && line.path !== '/') return line.path;
  }
  for (const line of lines) {
    const h = hierarchyFor(layout, line);
    if (h && h.version === 2 && line.path !== '/') return line.path;
  }
  return undefined;
}

export interface EffectDeps {
  src: ProcSource;
  /** the cgroup filesystem freeze/thaw goes through (tests: a RecordingCgroupFs over a temp dir) */
  fs?: CgroupFs;
  kill?: Killer;
  shell(pid: number): void;
  /** pids never to touch (ctop itself) */
  selfPid?: number;
}

export function hostEffects(d: EffectDeps): Effects {
  const kill: Killer = d.kill ?? ((pid, sig) => process.kill(pid, sig));
  const self = d.selfPid ?? process.pid;
  return {
    signal(pids, sig) {
      let ok = 0;
      const failed: string[] = [];
      for (const pid of pids) {
        if (pid <= 1 || pid === self) {
          failed.push(`${pid} (refused)`);
          continue;
        }
        try {
          kill(pid, sig);
          ok++;
        } catch (e) {
          failed.push(`${pid} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
        }
      }
      return `${sig} sent to ${ok} process${ok === 1 ? '' : 'es'}${failed.length ? `; not to ${failed.slice(0, 3).join(', ')}${failed.length > 3 ? '…' : ''}` : ''}`;
    },
    async freeze(pids, frozen) {
      const pid = pids.find((p) => p > 1);
      if (pid === undefined) return 'nothing to freeze';
      let mgr: CgroupManager | undefined;
      try {
        const layout = readCgroupLayout(d.src);
        const path = freezerPath(layout, decodeBytes(d.src.readProc(`${pid}/cgroup`)));
        if (path === undefined) return `pid ${pid} is in no freezable cgroup of its own (no v2 cgroup, no v1 freezer)`;
        mgr = new CgroupManager({ fs: d.fs ?? new NodeCgroupFs(), layout, cgroupsPath: path });
      } catch (e) {
        return `cannot read the cgroup of pid ${pid}: ${(e as Error).message}`;
      }
      try {
        // the manager waits until the kernel says FROZEN / THAWED (v1 freezer.state, v2 cgroup.events)
        if (frozen) await mgr.freeze();
        else await mgr.thaw();
        return `${frozen ? 'frozen' : 'thawed'}: ${mgr.freezerState()}`;
      } catch (e) {
        return `cannot ${frozen ? 'freeze' : 'thaw'}: ${(e as Error).message}`;
      }
    },
    shell: d.shell,
  };
}
