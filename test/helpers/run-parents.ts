import * as fs from 'node:fs';

/**
 * `hostscope run` puts every container under a `/hostscope` parent cgroup in each hierarchy, made
 * by the first container (as docker's `/docker`). A live test with a store of its own removes the
 * parents this test run made — only when empty (another's container may be in one) — and never one
 * that was there before the run started.
 *
 * Several such test files run at once: one may start after another made the parents, and end
 * while the other's containers still hold them. So a parent absent when a file starts is claimed
 * in a file shared by the whole run (keyed by the vitest process, the workers' parent), and every
 * file, when it ends, removes each claimed parent that is empty.
 *
 * `new CgroupParents('runc-ts')` does the same for runc-ts's default parent `/runc-ts`.
 */
export class CgroupParents {
  private readonly claims: string;

  constructor(readonly name: string) {
    if (!/^[\w.-]+$/.test(name)) throw new Error(`not a parent name: ${name}`);
    this.claims = name === 'hostscope' ? `/tmp/hostscope-test-parents-${process.ppid}` : `/tmp/hostscope-test-parents-${name}-${process.ppid}`;
    const absent = fs.readdirSync('/sys/fs/cgroup').filter((h) => fs.existsSync(`/sys/fs/cgroup/${h}/cgroup.procs`) && !fs.existsSync(`/sys/fs/cgroup/${h}/${name}`));
    if (absent.length > 0) fs.appendFileSync(this.claims, absent.map((h) => `${h}\n`).join(''));
  }

  /** rmdir each parent this test run claimed, where it is empty now. */
  removeMade(): void {
    let claimed: string[];
    try {
      claimed = [...new Set(fs.readFileSync(this.claims, 'utf8').split('\n').filter(Boolean))];
    } catch {
      return;
    }
    let left = 0;
    for (const h of claimed) {
      if (!/^[\w.=-]+$/.test(h) || !fs.existsSync(`/sys/fs/cgroup/${h}/${this.name}`)) continue;
      try {
        fs.rmdirSync(`/sys/fs/cgroup/${h}/${this.name}`);
      } catch {
        left++; // in use: a container of another file still running
      }
    }
    if (left === 0) fs.rmSync(this.claims, { force: true });
  }
}

/** the `/hostscope` parents of `hostscope run` */
export class HostscopeParents extends CgroupParents {
  constructor() {
    super('hostscope');
  }
}
