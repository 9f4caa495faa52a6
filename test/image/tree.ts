import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** one line per path below root: type, mode, uid:gid, size, content hash or link target */
export interface Node {
  type: 'dir' | 'file' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  sha?: string;
  link?: string;
  ino: number;
}

export function snapshot(root: string): Map<string, Node> {
  const out = new Map<string, Node>();
  const walk = (rel: string): void => {
    const p = rel === '' ? root : join(root, rel);
    const st = fs.lstatSync(p);
    const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, ino: st.ino };
    if (st.isDirectory()) {
      out.set(rel || '.', { type: 'dir', ...base });
      for (const c of fs.readdirSync(p).sort()) walk(rel === '' ? c : `${rel}/${c}`);
    } else if (st.isSymbolicLink()) out.set(rel, { type: 'symlink', ...base, mode: 0, link: fs.readlinkSync(p) });
    else if (st.isFile()) out.set(rel, { type: 'file', ...base, size: st.size, sha: createHash('sha256').update(fs.readFileSync(p)).digest('hex').slice(0, 16) });
    else out.set(rel, { type: 'other', ...base });
  };
  walk('');
  return out;
}

/** comparable text of a snapshot (no inode numbers) */
export function describe(m: Map<string, Node>, opts: { root?: boolean } = {}): string[] {
  return [...m]
    .filter(([k]) => opts.root || k !== '.')
    .map(([k, n]) => `${k} ${n.type} ${n.mode.toString(8)} ${n.uid}:${n.gid}${n.size !== undefined ? ` ${n.size} ${n.sha}` : ''}${n.link !== undefined ? ` -> ${n.link}` : ''}`);
}

/** every entry name in a directory (to check nothing was left beside a target) */
export function names(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}
