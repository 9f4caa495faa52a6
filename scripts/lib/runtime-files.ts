/**
 * Capture the files container runtimes leave on disk (issue 10) into a dump's root/, so the dump
 * replays the names (src/inspect/names.ts reads them through ProcSource.readHostFile): docker's
 * config.v2.json, the OCI bundle config.json (or runc-ts state.json) each captured container's
 * name came from, nerdctl's name store, and the cwd link of each container's shim or monitor.
 * Environment values in these files are redacted (`KEY=<redacted>`); a file that is not valid
 * JSON is left out.
 */
import { existsSync, mkdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openSource } from '../../src/source/source.js';
import { inspectHost } from '../../src/inspect/host.js';
import { monitorOf, readNameFiles } from '../../src/inspect/names.js';
import { READ_CAPS } from '../../src/source/bounded.js';

/** `KEY=value` strings of every `Env` / `env` array, anywhere in the JSON, become `KEY=<redacted>`. */
export function redactEnv(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) {
    if (key === 'Env' || key === 'env') return v.map((e) => (typeof e === 'string' ? `${e.split('=')[0]}=<redacted>` : e));
    return v.map((x) => redactEnv(x));
  }
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactEnv(x, k)]));
  return v;
}

export function captureRuntimeFiles(out: string, pids: ReadonlySet<number>): string[] {
  const notes: string[] = [];
  const src = openSource();
  const model = inspectHost(src, { containers: true });
  const containers = model.containers.filter((c) => c.pids.some((p) => pids.has(p)));
  const read = readNameFiles(src, model.snapshot.processes, containers);
  const byPid = new Map(model.snapshot.processes.map((p) => [p.pid, p]));
  const put = (path: string, text: string): void => {
    try {
      const redacted = `${JSON.stringify(redactEnv(JSON.parse(text)), null, 2)}\n`;
      const dest = join(out, 'root', path);
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, redacted);
    } catch (e) {
      notes.push(`${path}: not captured (${(e as Error).message})`);
    }
  };
  for (const c of containers) {
    const f = read.files.get(c.key);
    if (f?.docker) put(f.docker.path, f.docker.text);
    if (f?.oci) put(f.oci.path, f.oci.text);
    const m = monitorOf(c, byPid);
    if (m && existsSync(join(out, 'proc', String(m.pid))) && !existsSync(join(out, 'proc', String(m.pid), 'cwd'))) {
      try {
        symlinkSync(readlinkSync(`/proc/${m.pid}/cwd`), join(out, 'proc', String(m.pid), 'cwd'));
      } catch {
        /* gone or denied */
      }
    }
  }
  // nerdctl's name store: names and the ids they hold (no secrets)
  for (const store of src.listHostDir('/var/lib/nerdctl')) {
    for (const ns of src.listHostDir(`/var/lib/nerdctl/${store}/names`)) {
      for (const name of src.listHostDir(`/var/lib/nerdctl/${store}/names/${ns}`)) {
        const path = `/var/lib/nerdctl/${store}/names/${ns}/${name}`;
        try {
          const id = src.readHostFile(path, READ_CAPS.runtimeSmall).toString('utf8');
          mkdirSync(join(out, 'root', dirname(path)), { recursive: true });
          writeFileSync(join(out, 'root', path), id);
        } catch {
          /* a lock file or a directory */
        }
      }
    }
  }
  return [...notes, ...read.notes];
}
