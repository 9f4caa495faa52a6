import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The directory of hostscope's package.json, found upward from `from`: the code runs from src/
 * (tests), dist/ (tsc) or dist/cli/bin/chunks/ (bundled bins), at different depths.
 */
export function packageRoot(from: string): string | undefined {
  for (let d = from; d !== dirname(d); d = dirname(d)) {
    const f = join(d, 'package.json');
    if (!existsSync(f)) continue;
    try {
      if ((JSON.parse(readFileSync(f, 'utf8')) as { name?: string }).name === 'hostscope') return d;
    } catch {
      /* not ours */
    }
  }
  return undefined;
}

export function packageVersion(from: string): string {
  const root = packageRoot(from);
  if (!root) return '?';
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? '?';
}
