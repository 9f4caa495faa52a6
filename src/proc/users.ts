import type { ProcSource } from '../source/source.js';

/** uid → name from the host's /etc/passwd (the dump's, for a dump); numbers when unknown. */
export class UserNames {
  private readonly names = new Map<number, string>();

  constructor(src: ProcSource) {
    const text = src.readEtc('passwd') ?? '';
    for (const line of text.split('\n')) {
      const f = line.split(':');
      const uid = Number(f[2]);
      if (f.length >= 3 && f[0] && f[2] !== '' && Number.isInteger(uid) && !this.names.has(uid)) this.names.set(uid, f[0]);
    }
  }

  name(uid: number | undefined): string | undefined {
    return uid === undefined ? undefined : this.names.get(uid) ?? String(uid);
  }

  /** undefined when no entry names it (getpwuid(3) finding nothing) */
  lookup(uid: number): string | undefined {
    return this.names.get(uid);
  }
}

/** gid → name from the host's /etc/group (the dump's, for a dump): the first line for a gid wins, as getgrgid(3). */
export class GroupNames {
  private readonly names = new Map<number, string>();

  constructor(src: ProcSource) {
    const text = src.readEtc('group') ?? '';
    for (const line of text.split('\n')) {
      const f = line.split(':');
      const gid = Number(f[2]);
      if (f.length >= 3 && f[0] && f[2] !== '' && Number.isInteger(gid) && !this.names.has(gid)) this.names.set(gid, f[0]);
    }
  }

  /** undefined when no entry names it */
  lookup(gid: number): string | undefined {
    return this.names.get(gid);
  }
}
