/**
 * The last name source (issue 10): a container's hostname as its own UTS namespace says it, the
 * way atop reads it. Node never setns()'s itself: a child forked by the native step runner enters
 * the container's uts namespace (setns on /proc/PID/ns/uts opened here) and execs
 * `/bin/hostname` (uname(2) nodename) with its stdout on one end of a socket pair, read back
 * bounded from the other. No temp file: nothing is left behind when the reader is killed.
 * Not /proc/PID/root/etc/hostname: a sandbox made with `unshare --uts` shares the host's /etc, so
 * that file names the host, not the container. Not /proc/PID/root/proc/sys/kernel/hostname
 * either: that file shows the *reader's* uts namespace.
 *
 * Live only (and with the addon); only for containers no runtime file or cgroup names, whose uts
 * namespace is not the host's. Any failure (process gone, no permission, no addon) leaves the
 * container as it was.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { ProcSource } from '../source/source.js';
import { NS_CLONE_FLAG } from '../parse/ns-link.js';
import { closeFd, loadNative, runSteps, socketPair } from '../native/index.js';
import type { Container } from '../model/containers.js';
import { containerIndex } from '../model/containers.js';
import { applyNames } from '../model/container-names.js';
import type { HostModel } from './host.js';

const HOSTNAME_BIN = '/bin/hostname';

/** The containers worth asking: no name from a runtime, a uts namespace of their own. */
export function needsUtsName(c: Container): boolean {
  return c.runtime === 'unknown' && c.nameSource === undefined && c.namespaces.uts !== undefined && !c.sharedWithHost.includes('uts');
}

/** key → the hostname inside that container's uts namespace, for the containers that need one. */
export async function readUtsHostnames(src: ProcSource, containers: readonly Container[], notes: string[] = []): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const wanted = containers.filter(needsUtsName);
  if (wanted.length === 0 || !src.isLive || !loadNative()) return out;
  for (const c of wanted) {
    const name = await hostnameIn(src, c.initPid, notes);
    if (name !== undefined) out.set(c.key, name);
  }
  return out;
}

async function hostnameIn(src: ProcSource, pid: number, notes: string[]): Promise<string | undefined> {
  let nsFd: number | undefined;
  let ends: [number, number] | undefined;
  try {
    nsFd = openSync(`${src.procRoot}/${pid}/ns/uts`, 'r');
    ends = socketPair();
    const child = await runSteps([
      { op: 'setns', fd: nsFd, nstype: NS_CLONE_FLAG.uts, label: 'setns(uts)' },
      { op: 'dup2', from: ends[1], to: 1 },
      { op: 'exec', file: HOSTNAME_BIN, argv: ['hostname'], envp: [], search: false },
    ]);
    // the child holds its own copy as its stdout: with ours closed, its exit is our end's EOF
    closeFd(ends[1]);
    ends[1] = -1;
    const status = await child.exited;
    if (status.code !== 0) {
      notes.push(`${HOSTNAME_BIN} in the uts namespace of pid ${pid} exited with ${status.code ?? `signal ${status.signal}`}`);
      return undefined;
    }
    // bounded: a hostname is at most 64 bytes (HOST_NAME_MAX); more is not a hostname
    const buf = Buffer.alloc(256);
    let n = 0;
    for (let r = -1; r !== 0 && n < buf.length; n += r) r = readSync(ends[0], buf, n, buf.length - n, null);
    const text = buf.subarray(0, n).toString('utf8').trim();
    // rendering escapes what it holds
    return text !== '' && text.length <= 64 ? text : undefined;
  } catch (e) {
    notes.push(`hostname of pid ${pid}: ${(e as Error).message}`);
    return undefined;
  } finally {
    if (nsFd !== undefined) closeSync(nsFd);
    if (ends) for (const fd of ends) if (fd >= 0) closeFd(fd);
  }
}

/** The model with the UTS hostnames of unnamed containers as their names (a new model). */
export async function withUtsNames(src: ProcSource, model: HostModel): Promise<HostModel> {
  const notes = [...model.notes];
  const names = await readUtsHostnames(src, model.containers, notes);
  if (names.size === 0) return notes.length === model.notes.length ? model : { ...model, notes };
  const files = new Map([...names].map(([k, v]) => [k, { utsHostname: v }]));
  const containers = applyNames(model.containers, files, notes);
  return { ...model, containers, containerOf: containerIndex(containers), notes };
}
