import type { ProcSource } from '../source/source.js';

/** uid → name from the host's /etc/passwd (the dump's, for a dump); numbers when unknown. */
export class UserNames {
  private readonly names = new Map<number, string>();

  constructor(src: ProcSource) {
    const text = src.readEtc('passwd') ?? '';
    for (const line of text.split('\n')) {
      const f = line.split(':');
      const uid = Number(f[2]);
      if (f.length >= 3 && f[0] && Number.isInteger(uid) && !this.names.has(uid)) this.names.set(uid, f[0]);
    }
  }

  name(uid: number | undefined): string | undefined {
    return uid === undefined ? undefined : this.names.get(uid) ?? String(uid);
  }
}
