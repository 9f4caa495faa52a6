/**
 * The one way a container is named on a command line (`nsenter-ts --container`, `cinf --cgroup`,
 * ctop's filter): pure, over the containers the host model found. Bug 8 of issue 6: a unique id
 * prefix works everywhere, and an ambiguous name lists a few candidates and a count, not all.
 */
import type { Container } from './containers.js';

export type ContainerLookup =
  | { ok: true; container: Container; how: 'name' | 'id' | 'member pid' | 'id prefix' | 'cgroup path' }
  | { ok: false; query: string; candidates: Container[] };

/** how many candidates an ambiguous name lists before "and N more" */
export const MAX_CANDIDATES = 5;

/**
 * Find the container `query` names, trying in order (the first rule that matches anything decides):
 * 1. its name, full id or key (`docker:<id>`, `ns:pid:<inode>`);
 * 2. a pid (digits) of one of its processes;
 * 3. a prefix of its runtime id (`f3b9` for `f3b9c0…`), as docker takes;
 * 4. a cgroup path (starts with `/`): its cgroup path, or that path with the last part shortened
 *    to a prefix (`/docker/f3b9`, `/system.slice/docker-f3b9`).
 * Several matches under the deciding rule: not found, with the candidates (see lookupMessage).
 */
export function findContainer(containers: readonly Container[], query: string): ContainerLookup {
  const q = query.trim();
  const pick = (how: Extract<ContainerLookup, { ok: true }>['how'], hits: Container[]): ContainerLookup | undefined => {
    const unique = [...new Set(hits)];
    if (unique.length === 0) return undefined;
    return unique.length === 1 ? { ok: true, container: unique[0]!, how } : { ok: false, query: q, candidates: unique };
  };
  if (q === '') return { ok: false, query: q, candidates: [] };
  const exact = containers.filter((c) => c.name === q || c.id === q || c.key === q);
  const byName = pick(exact.some((c) => c.id === q) ? 'id' : 'name', exact);
  if (byName) return byName;
  if (/^\d+$/.test(q)) {
    const pid = Number(q);
    const byPid = pick('member pid', containers.filter((c) => c.pids.includes(pid)));
    if (byPid) return byPid;
  }
  if (!q.includes('/')) {
    const byPrefix = pick('id prefix', containers.filter((c) => c.id !== undefined && c.id.startsWith(q)));
    if (byPrefix) return byPrefix;
  }
  if (q.startsWith('/')) {
    const path = q.length > 1 ? q.replace(/\/+$/, '') : q;
    const byPath = pick(
      'cgroup path',
      containers.filter((c) => c.cgroupPath !== undefined && (c.cgroupPath === path || (path !== '/' && c.cgroupPath.startsWith(path) && !c.cgroupPath.slice(path.length).includes('/')))),
    );
    if (byPath) return byPath;
  }
  return { ok: false, query: q, candidates: [] };
}

/** One line for a failed lookup: none found, or (ambiguous) at most five candidates and a count. */
export function lookupMessage(r: Extract<ContainerLookup, { ok: false }>): string {
  if (r.candidates.length === 0) return `no container '${r.query}' (cinf -o +CONTAINER lists them)`;
  const shown = r.candidates.slice(0, MAX_CANDIDATES).map((c) => `${c.id ? c.id.slice(0, 12) : c.name} (init pid ${c.initPid})`);
  const more = r.candidates.length - shown.length;
  return `'${r.query}' names ${r.candidates.length} containers: ${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}; name one by id, id prefix or a member pid`;
}
