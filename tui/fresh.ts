/**
 * Which processes the live poll reads the stat of (HostScanner's freshStat): only those the view
 * needs, not all of them as htop must. A group whose numbers come from its own cgroup (one read of
 * a few cgroup files) needs none of its processes' stat; a group without one (the host, a namespace set
 * or container sharing its cgroup), or whose cgroup lacks a controller (no cpu usage, memory or pids
 * figures: `sums`), sums its processes' ticks, RSS or threads, so it needs all of theirs; the process list of an opened group needs that group's; a detail view its
 * process's; the list of every process on the host, all. Everything else keeps the figures of the
 * last poll that read them, marked `stale` in the sample (no CPU % is computed from those).
 * Pure: State → FreshStat.
 */
import type { FreshStat } from '../src/inspect/scanner.js';
import { groupsOf } from './frame.js';
import type { State } from './store.js';

export function freshStatFor(s: State): FreshStat {
  const n = s.history.length;
  const cur = s.history[n - 1];
  // nothing known yet: the first scan reads every process whole anyway
  if (!cur || cur.thin) return 'all';
  const rows = groupsOf(s.history[n - 2], cur, s.groupBy);
  const pids = new Set<number>();
  for (const r of rows) if (r.sums) for (const p of r.pids) pids.add(p);
  for (const v of s.views) {
    if (v.kind === 'procs') {
      if (v.groupKey === undefined) return 'all';
      const g = rows.find((r) => r.key === v.groupKey);
      if (g) for (const p of g.pids) pids.add(p);
    } else if (v.kind === 'detail') pids.add(v.pid);
  }
  // every process is wanted (no group has a cgroup of its own): the scanner's cheaper 'all'
  if (pids.size >= cur.procs.length) return 'all';
  return pids;
}
