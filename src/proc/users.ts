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
}
