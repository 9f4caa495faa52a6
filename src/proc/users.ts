import type { ProcSource } from '../source/source.js';
import { parsePasswd } from '../parse/passwd.js';

/** uid → name from the host's /etc/passwd (the dump's, for a dump); numbers when unknown. */
export class UserNames {
  private readonly names: Map<number, string>;

  constructor(src: ProcSource) {
    this.names = parsePasswd(src.readEtc('passwd') ?? '');
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
  private readonly names: Map<number, string>;

  constructor(src: ProcSource) {
    // group(5) has passwd(5)'s first three fields (name:password:id): the same strict parser
    this.names = parsePasswd(src.readEtc('group') ?? '');
  }

  /** undefined when no entry names it */
  lookup(gid: number): string | undefined {
    return this.names.get(gid);
  }
}
