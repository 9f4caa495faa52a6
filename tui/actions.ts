/**
 * What ctop's action keys do to the host: signals, freezing a cgroup. The writer is injected so
 * tests record the writes instead of doing them. (src/cgroup/manager.ts's freeze/thaw replaces
 * `freezeFiles` once it is on main.)
 */
import { writeFileSync } from 'node:fs';
import type { ProcSource } from '../src/source/source.js';
import { parseProcCgroup } from '../src/parse/proc-cgroup.js';
import { cgroupSysRel, hierarchyFor, type CgroupLayout } from '../src/cgroup/layout.js';
import { readCgroupLayout } from '../src/inspect/host.js';
import type { Effects } from './keymap.js';

export type Writer = (absPath: string, text: string) => void;
export type Killer = (pid: number, signal: 'SIGTERM' | 'SIGKILL') => void;

/** The file to write to freeze (value) or thaw a process's cgroup: v2 cgroup.freeze, else v1 freezer.state. */
export function freezeFile(layout: CgroupLayout, cgroupText: string, sysRoot: string, frozen: boolean): { path: string; value: string } | undefined {
  const lines = parseProcCgroup(cgroupText);
  for (const line of lines) {
    const h = hierarchyFor(layout, line);
    if (!h) continue;
    const dir = cgroupSysRel(h, line.path);
    if (dir === undefined) continue;
    if (h.version === 2 && line.path !== '/') return { path: `${sysRoot}/${dir}/cgroup.freeze`, value: frozen ? '1' : '0' };
  }
  for (const line of lines) {
    const h = hierarchyFor(layout, line);
    if (!h || h.version !== 1 || !h.controllers.includes('freezer')) continue;
    const dir = cgroupSysRel(h, line.path);
    if (dir === undefined || line.path === '/') continue;
    return { path: `${sysRoot}/${dir}/freezer.state`, value: frozen ? 'FROZEN' : 'THAWED' };
  }
  return undefined;
}

export interface EffectDeps {
  src: ProcSource;
  write?: Writer;
  kill?: Killer;
  shell(pid: number): void;
  /** pids never to touch (ctop itself) */
  selfPid?: number;
}

export function hostEffects(d: EffectDeps): Effects {
  const write: Writer = d.write ?? ((p, t) => writeFileSync(p, t));
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
    freeze(pids, frozen) {
      const pid = pids.find((p) => p > 1);
      if (pid === undefined) return 'nothing to freeze';
      let target: { path: string; value: string } | undefined;
      try {
        target = freezeFile(readCgroupLayout(d.src), d.src.readProcText(`${pid}/cgroup`), d.src.sysRoot, frozen);
      } catch (e) {
        return `cannot read the cgroup of pid ${pid}: ${(e as Error).message}`;
      }
      if (!target) return `pid ${pid} is in no freezable cgroup of its own (no v2 cgroup, no v1 freezer)`;
      try {
        write(target.path, target.value);
        return `${frozen ? 'frozen' : 'thawed'}: wrote ${target.value} to ${target.path}`;
      } catch (e) {
        return `cannot write ${target.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
      }
    },
    shell: d.shell,
  };
}
