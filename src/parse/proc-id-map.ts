import { ParseError } from './errors.js';
import { lines } from './text.js';
import { safeInteger } from './numbers.js';

/** One range of a user namespace id map. */
export interface IdMapRange {
  /** first id inside the namespace */
  inside: number;
  /** first id it maps to, as seen from the READER's user namespace */
  outside: number;
  count: number;
}

/**
 * /proc/<pid>/uid_map and gid_map, see user_namespaces(7): three right-aligned columns.
 * An empty file is a fresh user namespace with no map yet.
 */
export function parseIdMap(text: string, path = 'uid_map'): IdMapRange[] {
  return lines(text)
    .filter((l) => l.trim() !== '')
    .map((line, i) => {
      // ids are 32-bit (uid_t): a range may end at 2^32, never past it (user_namespaces(7))
      const parts = line.trim().split(/\s+/).map(safeInteger);
      if (parts.length !== 3 || parts.some((n) => n === undefined || n < 0 || n > 0xffffffff) || parts[0]! + parts[2]! > 2 ** 32 || parts[1]! + parts[2]! > 2 ** 32) {
        throw new ParseError(path, 'expected three ids', i + 1, line);
      }
      return { inside: parts[0]!, outside: parts[1]!, count: parts[2]! };
    });
}

/** The identity map of the initial user namespace: `0 0 4294967295`. */
export function isIdentityMap(map: IdMapRange[]): boolean {
  return map.length === 1 && map[0]!.inside === 0 && map[0]!.outside === 0 && map[0]!.count === 4294967295;
}

/** Map an id from inside the namespace to the reader's view; undefined when unmapped. */
export function mapIdOut(map: IdMapRange[], id: number): number | undefined {
  for (const r of map) if (id >= r.inside && id < r.inside + r.count) return r.outside + (id - r.inside);
  return undefined;
}

/** /proc/<pid>/setgroups: `allow` or `deny`. */
export function parseSetgroups(text: string, path = 'setgroups'): 'allow' | 'deny' {
  const t = text.trim();
  if (t !== 'allow' && t !== 'deny') throw new ParseError(path, `expected allow or deny, got ${JSON.stringify(t)}`, 1, t);
  return t;
}
