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
 * Find the container `query` names. A pid is the kernel's and nobody chooses it, so digits that are
 * a pid of one of a container's processes name that container (names, made of digits or not, are
 * not consulted). Otherwise every other rule is tried:
 * - its name, full id or key (`docker:<id>`, `ns:pid:<inode>`);
 * - a prefix of its runtime id (`f3b9` for `f3b9c0…`), as docker takes (an id equal to the query
 *   beats the longer ids it is a prefix of);
 * - a cgroup path (starts with `/`): its cgroup path, or that path with the last part shortened to
 *   a prefix (`/docker/f3b9`, `/system.slice/docker-f3b9`).
 * Names come from UTS hostnames and HOSTNAME, which anyone sets in `unshare -Ur --uts`: so when the
 * rules that match name more than one container between them (a name equal to another container's
 * short id, a hostname that looks like a cgroup path), or one rule names several, it is not found,
 * with all of them as candidates (see lookupMessage) — never the first rule's pick (finding 2 of stop 20).
 */
export function findContainer(containers: readonly Container[], query: string): ContainerLookup {
  const q = query.trim();
  if (q === '') return { ok: false, query: q, candidates: [] };
  if (/^\d+$/.test(q)) {
    const pid = Number(q);
    const byPid = containers.filter((c) => c.pids.includes(pid));
    if (byPid.length > 0) return decide(q, containers, [['member pid', byPid]]);
  }
  const exact = containers.filter((c) => c.name === q || c.id === q || c.key === q);
  const rules: [How, Container[]][] = [[exact.some((c) => c.id === q) ? 'id' : 'name', exact]];
  if (!q.includes('/')) {
    const sameId = containers.filter((c) => c.id === q);
    rules.push(['id prefix', sameId.length > 0 ? sameId : containers.filter((c) => c.id !== undefined && c.id.startsWith(q))]);
  }
  if (q.startsWith('/')) {
    const path = q.length > 1 ? q.replace(/\/+$/, '') : q;
    const samePath = containers.filter((c) => c.cgroupPath === path);
    rules.push([
      'cgroup path',
      samePath.length > 0 ? samePath : containers.filter((c) => c.cgroupPath !== undefined && path !== '/' && c.cgroupPath.startsWith(path) && !c.cgroupPath.slice(path.length).includes('/')),
    ]);
  }
  return decide(q, containers, rules);
}

type How = Extract<ContainerLookup, { ok: true }>['how'];

/** one container between all the rules that matched: found (by the first of them); several: ambiguous */
function decide(q: string, containers: readonly Container[], rules: [How, Container[]][]): ContainerLookup {
  const hit = new Set(rules.flatMap(([, hits]) => hits));
  if (hit.size === 1) return { ok: true, container: [...hit][0]!, how: rules.find(([, hits]) => hits.length > 0)![0] };
  return { ok: false, query: q, candidates: containers.filter((c) => hit.has(c)) };
}

/** One line for a failed lookup: none found, or (ambiguous) at most five candidates and a count. */
export function lookupMessage(r: Extract<ContainerLookup, { ok: false }>): string {
  if (r.candidates.length === 0) return `no container '${r.query}' (cinf -o +CONTAINER lists them)`;
  const shown = r.candidates.slice(0, MAX_CANDIDATES).map((c) => `${c.id ? c.id.slice(0, 12) : c.name} (init pid ${c.initPid})`);
  const more = r.candidates.length - shown.length;
  return `'${r.query}' names ${r.candidates.length} containers: ${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}; name one by id, id prefix or a member pid`;
}
