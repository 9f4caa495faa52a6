import { expect } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GOLDEN_DIR, HOSTS_DIR } from './fixtures.js';

/**
 * Compare a command's output with fixtures/golden/<name>. UPDATE_GOLDEN=1 rewrites the file; the
 * diff is reviewed like code. Paths to the fixture hosts become <HOSTS>, so the files do not
 * depend on where the checkout lives. A missing golden file fails (it never passes vacuously).
 */
export function golden(name: string, actual: string): void {
  const file = join(GOLDEN_DIR, name);
  const text = actual.split(HOSTS_DIR).join('<HOSTS>');
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  if (!existsSync(file)) throw new Error(`no golden file ${name}: run UPDATE_GOLDEN=1 npx vitest run test/golden and review the diff`);
  expect(text).toBe(readFileSync(file, 'utf8'));
}
