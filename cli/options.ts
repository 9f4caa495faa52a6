/**
 * Options for cinf and capdecode: one table per command gives the parser (getopt_long, as
 * util-linux parses) and the --help text. No argument library: yargs and cliui's Intl.Segmenter
 * cost ~80 ms of CPU on every run, more than a small host takes to read.
 */
import { getoptLong, type ArgKind, type LongOption } from './getopt.js';
import { packageVersion } from '../src/util/package-root.js';

export interface OptionSpec {
  long: string;
  short?: string;
  arg: ArgKind;
  /** shown in --help: `<pid>`, `[=MODE]` */
  argName?: string;
  help: string;
}

/** What was given: each option's values in order (`true` for a flag or an optional arg left out). */
export interface ParsedOptions {
  values: Map<string, (string | true)[]>;
  operands: string[];
}

export const HELP_OPTION: OptionSpec = { long: 'help', short: 'h', arg: 'none', help: 'display this help' };
export const VERSION_OPTION: OptionSpec = { long: 'version', short: 'V', arg: 'none', help: 'display version' };

/** Parse argv by the table (GNU permuting order: operands may come among options). */
export function parseOptions(argv: string[], specs: readonly OptionSpec[]): { ok: true; parsed: ParsedOptions } | { ok: false; message: string } {
  let shorts = '';
  for (const s of specs) if (s.short) shorts += s.short + (s.arg === 'required' ? ':' : s.arg === 'optional' ? '::' : '');
  const longs: LongOption[] = specs.map((s) => ({ name: s.long, arg: s.arg, key: s.long }));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s.long]));
  const r = getoptLong(argv, shorts, longs);
  if (!r.ok) return r;
  const values = new Map<string, (string | true)[]>();
  for (const o of r.options) {
    const key = byShort.get(o.key) ?? o.key;
    const list = values.get(key) ?? [];
    list.push(o.value ?? true);
    values.set(key, list);
  }
  return { ok: true, parsed: { values, operands: r.rest } };
}

/** The last value given for an option taking an argument (as util-linux: the last one wins). */
export function lastString(p: ParsedOptions, long: string): string | undefined {
  const v = p.values.get(long)?.at(-1);
  return v === undefined ? undefined : v === true ? '' : v;
}

export function flag(p: ParsedOptions, long: string): boolean {
  return p.values.has(long);
}

/** util-linux's --help layout: usage lines, then one line per option, then the epilog. */
export function helpText(usage: string[], specs: readonly OptionSpec[], epilog: string[] = []): string {
  const left = specs.map((s) => {
    const names = `${s.short ? `-${s.short}, ` : '    '}--${s.long}`;
    if (s.arg === 'none') return names;
    if (s.arg === 'optional') return `${names}${s.argName ?? '[=<arg>]'}`;
    return `${names} ${s.argName ?? '<arg>'}`;
  });
  const w = Math.max(...left.map((l) => l.length)) + 2;
  const lines = specs.map((s, i) => ` ${left[i]!.padEnd(w)}${s.help}`);
  return `Usage:\n${usage.map((u) => ` ${u}`).join('\n')}\n\nOptions:\n${lines.join('\n')}\n${epilog.length ? `\n${epilog.join('\n')}\n` : ''}`;
}

/** util-linux's --version form: `cinf from hostscope 0.1.0`. */
export function versionLine(prog: string): string {
  return `${prog} from hostscope ${packageVersion(import.meta.dirname)}\n`;
}
