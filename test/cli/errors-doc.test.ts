import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, ROOT_DIR } from '../helpers/live.js';

/**
 * Stop 20, finding 6: docs/errors.md's table is what users read, and it had drifted from the
 * output (`hostscope run nosuchimage true`, `runc-ts exec x /no/such/binary`): the tests kept
 * their own copies of the messages. This runs every row of the table whose input is a whole
 * command that runs alone — one of our bins, no placeholder (P, DIR, x …), nothing that starts a
 * container — and compares the first line on stderr and the exit code with the row.
 */
const BINS = new Set(['cinf', 'capdecode', 'hostscope', 'nsenter-ts', 'runc-ts', 'ctop']);
const PLACEHOLDER = /^(P|DIR|FILE|L|S|x|X|C|db|N)$|…|<|\bDIR\b|\/abs\//;

/** a code span's text split as sh would (single quotes only, as the table uses) */
function words(cmd: string): string[] | undefined {
  const out: string[] = [];
  const re = /'([^']*)'|(\S+)/g;
  for (let m = re.exec(cmd); m; m = re.exec(cmd)) out.push(m[1] ?? m[2]!);
  return out.some((w) => w.includes("'") || w.includes('"') || w.includes('$')) ? undefined : out;
}

interface Row {
  line: number;
  argv: string[];
  message: string | undefined;
  alternatives: string[];
  code: number | undefined;
}

function rows(): Row[] {
  const text = readFileSync(join(ROOT_DIR, 'docs/errors.md'), 'utf8');
  const out: Row[] = [];
  text.split('\n').forEach((l, i) => {
    // | input | output | exit |, input opening with one command in backticks
    const cells = l.split(/(?<!\\)\|/).map((c) => c.trim());
    if (cells.length !== 5 || !cells[1]!.startsWith('`')) return;
    const cmd = /^`([^`]+)`/.exec(cells[1]!)?.[1];
    if (!cmd) return;
    // a row for a state this host may not be in (`… where config.json exists`, `(not mounted)`)
    if (/^\s*(where|when|while|without|on a|as a|\(not)\b/.test(cells[1]!.slice(cmd.length + 2))) return;
    const argv = words(cmd);
    if (!argv || !BINS.has(argv[0]!) || argv.some((w) => PLACEHOLDER.test(w))) return;
    // nothing that makes a container or waits on one
    if (argv[0] === 'hostscope' && ['run', 'exec', 'rm', 'top'].includes(argv[1]!) && argv.includes('busybox')) return;
    if (argv[0] === 'runc-ts' && ['create', 'run', 'exec', 'start', 'delete', 'kill', 'pause', 'resume', 'update', 'events'].includes(argv[1]!) && !argv.includes('nope')) return;
    if (argv[0] === 'hostscope' && argv[1] === 'exporter' && argv.length === 2) return; // serves
    // the row's message, and any other whole message it gives (`A` on a v2 host, `B` on a v1 one)
    const message = /^`([^`]+)`/.exec(cells[2]!)?.[1];
    const alternatives = [...cells[2]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!).filter((m) => m.startsWith(`${argv[0]}`));
    const code = /^\d+/.exec(cells[3]!)?.[0];
    out.push({ line: i + 1, argv, message, alternatives, code: code === undefined ? undefined : Number(code) });
  });
  return out;
}

describe('docs/errors.md: the documented commands print what the table says', () => {
  const runRoot = mkdtempSync(join(tmpdir(), 'hs-errors-doc-'));
  afterAll(() => rmSync(runRoot, { recursive: true, force: true }));
  const table = rows();
  it('the table has runnable rows (the filter did not swallow them)', () => {
    expect(table.length).toBeGreaterThan(40);
  });
  it.each(table.map((r) => [r.line, r.argv.join(' '), r] as const))('errors.md:%i `%s`', (_l, _c, r) => {
    // runc-ts's state in a root of this test's own (its default /run/runc-ts would keep a .locks dir)
    const rest = r.argv[0] === 'runc-ts' ? ['--root', join(runRoot, 'runc-ts'), ...r.argv.slice(1)] : r.argv.slice(1);
    const res = spawnSync(process.execPath, [BIN(r.argv[0]!), ...rest], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 30_000,
      cwd: runRoot,
      env: { ...process.env, FORCE_COLOR: '0', HOSTSCOPE_RUN_ROOT: join(runRoot, 'run') },
    });
    if (r.code !== undefined) expect(res.status).toBe(r.code);
    if (r.message !== undefined && r.code !== 0) {
      const first = res.stderr.split('\n')[0]!;
      if (!r.alternatives.includes(first)) expect(first).toBe(r.message);
    }
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });
});
