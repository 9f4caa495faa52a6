import * as fs from 'node:fs';

/**
 * `hostscope run` puts every container under a `/hostscope` parent cgroup in each hierarchy, made
 * by the first container (as docker's `/docker`). A live test with a store of its own removes the
 * parents it made — only when empty (another's container may be in one) — and never one that was
 * there before it started.
 */
export class HostscopeParents {
  private readonly before = new Set(HostscopeParents.present());

  private static present(): string[] {
    return fs.readdirSync('/sys/fs/cgroup').filter((h) => fs.existsSync(`/sys/fs/cgroup/${h}/hostscope`));
  }

  /** rmdir the `/hostscope` parents made since this object was (those still empty). */
  removeMade(): void {
    for (const h of HostscopeParents.present()) {
      if (this.before.has(h)) continue;
      try {
        fs.rmdirSync(`/sys/fs/cgroup/${h}/hostscope`);
      } catch {
        /* in use: someone else's container is in it */
      }
    }
  }
}
