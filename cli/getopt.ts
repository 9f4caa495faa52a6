/**
 * getopt_long(3) as util-linux uses it, for commands whose options must behave exactly like
 * theirs (nsenter-ts): optional arguments are taken only when attached (`-m/path`,
 * `--mount=/path`), a leading `+` stops at the first non-option (so `nsenter-ts -t 1 -n ip -a`
 * passes `-a` to ip), `--` ends options, short options bundle (`-mun`), long options may be
 * abbreviated when unambiguous.
 */

export type ArgKind = 'none' | 'required' | 'optional';

export interface LongOption {
  name: string;
  arg: ArgKind;
  /** the short letter or key it reports as */
  key: string;
}

export interface ParsedOption {
  key: string;
  value: string | undefined;
  /** as written, for messages */
  spelled: string;
}

export type GetoptResult = { ok: true; options: ParsedOption[]; rest: string[] } | { ok: false; message: string };

/** `+ahVt:m::u::` → letter → kind */
function shortTable(spec: string): Map<string, ArgKind> {
  const m = new Map<string, ArgKind>();
  const s = spec.startsWith('+') ? spec.slice(1) : spec;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (s[i + 1] === ':' && s[i + 2] === ':') {
      m.set(c, 'optional');
      i += 2;
    } else if (s[i + 1] === ':') {
      m.set(c, 'required');
      i += 1;
    } else m.set(c, 'none');
  }
  return m;
}

/**
 * Without a leading `+`, non-options are permuted to the end as GNU getopt does (`capdecode 0x20
 * --json`): they come back in `rest`, in order, followed by what comes after `--`.
 */
export function getoptLong(argv: string[], shortSpec: string, longs: LongOption[]): GetoptResult {
  const shorts = shortTable(shortSpec);
  const stopAtNonOption = shortSpec.startsWith('+');
  const options: ParsedOption[] = [];
  const operands: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const exact = longs.find((l) => l.name === name);
      const matches = exact ? [exact] : longs.filter((l) => l.name.startsWith(name));
      if (matches.length === 0) return { ok: false, message: `unrecognized option '${a.slice(0, eq < 0 ? undefined : eq)}'` };
      if (matches.length > 1 && !matches.every((m) => m.key === matches[0]!.key)) return { ok: false, message: `option '${a}' is ambiguous` };
      const opt = matches[0]!;
      let value: string | undefined = eq < 0 ? undefined : a.slice(eq + 1);
      if (opt.arg === 'none' && value !== undefined) return { ok: false, message: `option '--${opt.name}' doesn't allow an argument` };
      if (opt.arg === 'required' && value === undefined) {
        if (i + 1 >= argv.length) return { ok: false, message: `option '--${opt.name}' requires an argument` };
        value = argv[++i];
      }
      options.push({ key: opt.key, value, spelled: `--${opt.name}` });
      continue;
    }
    if (a.startsWith('-') && a !== '-') {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        const kind = shorts.get(c);
        if (kind === undefined) return { ok: false, message: `invalid option -- '${c}'` };
        if (kind === 'none') {
          options.push({ key: c, value: undefined, spelled: `-${c}` });
          continue;
        }
        const attached = a.slice(j + 1);
        if (attached !== '') {
          options.push({ key: c, value: attached, spelled: `-${c}` });
        } else if (kind === 'required') {
          if (i + 1 >= argv.length) return { ok: false, message: `option requires an argument -- '${c}'` };
          options.push({ key: c, value: argv[++i], spelled: `-${c}` });
        } else options.push({ key: c, value: undefined, spelled: `-${c}` });
        break;
      }
      continue;
    }
    if (stopAtNonOption) break;
    operands.push(a);
  }
  return { ok: true, options, rest: [...operands, ...argv.slice(i)] };
}
