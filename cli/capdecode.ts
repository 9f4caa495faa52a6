import { CAPABILITIES, CAP_SETS, LAST_KNOWN_CAP, capNames, encodeCaps, formatCapshDecode, formatMaskHex, parseCapMask } from '../src/parse/capabilities.js';
import { readProcess } from '../src/proc/process.js';
import { GroupNames, UserNames } from '../src/proc/users.js';
import { capshPrintJson, formatCapshPrint, type CapshState } from '../src/render/capsh.js';
import { jsonText } from '../src/render/escape.js';
import type { ProcSource } from '../src/source/source.js';
import { CliError, EXIT_OK, PROC_ROOT_OPTION, UsageError, parsePid, runHandler, sourceFrom, type Deps, type RootOptions } from './common.js';
import { HELP_OPTION, VERSION_OPTION, flag, helpText, lastString, parseOptions, versionLine, type OptionSpec } from './options.js';

export interface CapdecodeArgs extends RootOptions {
  masks?: string[];
  decode?: string[];
  pid?: string;
  json?: boolean;
  encode?: string;
  list?: boolean;
  print?: boolean;
}

const PROG = 'capdecode';

const OPTIONS: OptionSpec[] = [
  { long: 'pid', short: 'p', arg: 'required', argName: '<pid>', help: 'decode CapInh/CapPrm/CapEff/CapBnd/CapAmb of this process' },
  { long: 'encode', short: 'e', arg: 'required', argName: '<caps>', help: 'comma-separated capability names or numbers to encode' },
  { long: 'list', short: 'l', arg: 'none', help: 'list every capability' },
  { long: 'decode', arg: 'required', argName: '<hex>', help: "capsh's spelling: --decode=HEX is the same as capdecode HEX" },
  { long: 'print', arg: 'none', help: "with --pid: the process's capability state laid out as capsh --print shows its own (see docs/capdecode.md for what differs)" },
  { long: 'json', short: 'J', arg: 'none', help: 'JSON output' },
  PROC_ROOT_OPTION,
  HELP_OPTION,
  VERSION_OPTION,
];

export function capdecodeHelp(): string {
  return helpText(
    [
      'capdecode <hex-mask>...          decode masks exactly as capsh --decode prints them',
      'capdecode --pid <pid>            decode the five capability sets of a process',
      'capdecode --pid <pid> --print    its capability state as capsh --print shows it',
      'capdecode --encode <cap,cap...>  names (or bit numbers) to a mask',
      'capdecode --list                 every capability, its bit and what it allows',
    ],
    OPTIONS,
    ['Unlike capsh, a malformed mask is an error (exit 1), not 0.', 'Exit status: 0 ok; 1 failure or bad usage (as util-linux).'],
  );
}

export function parseCapdecodeArgs(argv: string[]): CapdecodeArgs | { help: true } | { version: true } {
  const r = parseOptions(argv, OPTIONS);
  if (!r.ok) throw new UsageError(r.message);
  const p = r.parsed;
  if (flag(p, 'help')) return { help: true };
  if (flag(p, 'version')) return { version: true };
  const args: CapdecodeArgs = {};
  for (const k of ['pid', 'encode', 'proc-root'] as const) {
    const v = lastString(p, k);
    if (v !== undefined) args[k] = v;
  }
  const decode = (p.values.get('decode') ?? []).map(String);
  if (decode.length) args.decode = decode;
  if (p.operands.length) args.masks = p.operands;
  if (flag(p, 'list')) args.list = true;
  if (flag(p, 'json')) args.json = true;
  if (flag(p, 'print')) {
    if (args.pid === undefined) throw new UsageError('--print needs --pid');
    args.print = true;
  }
  return args;
}

export async function capdecodeMain(argv: string[], deps: Deps): Promise<number> {
  return runHandler(PROG, deps, () => {
    const args = parseCapdecodeArgs(argv);
    if ('help' in args) {
      deps.stdout.write(capdecodeHelp());
      return EXIT_OK;
    }
    if ('version' in args) {
      deps.stdout.write(versionLine(PROG));
      return EXIT_OK;
    }
    return handleCapdecode(args, deps);
  });
}

function decoded(mask: bigint) {
  const names = capNames(mask);
  return { mask: `0x${formatMaskHex(mask)}`, names: names.filter((n) => !/^\d+$/.test(n)), unknownBits: names.filter((n) => /^\d+$/.test(n)).map(Number) };
}

export function handleCapdecode(args: CapdecodeArgs, deps: Deps): number {
  const masks = [...(args.decode ?? []), ...(args.masks ?? [])];
  const modes = [masks.length > 0, args.pid !== undefined, args.encode !== undefined, args.list === true].filter(Boolean).length;
  if (modes === 0) throw new UsageError('no mask given (try capdecode 00000000a80425fb, --pid, --encode or --list)');
  if (modes > 1) throw new UsageError('give masks, --pid, --encode or --list, one at a time');

  if (args.list) {
    const src = deps.openSource({});
    let last: number | undefined;
    try {
      last = Number(src.readProcText('sys/kernel/cap_last_cap').trim());
    } catch {
      last = undefined;
    }
    if (args.json) {
      deps.stdout.write(jsonText({ capabilities: CAPABILITIES.map((c) => ({ ...c, kernelSupports: last === undefined ? null : c.bit <= last })) }));
    } else {
      const w = Math.max(...CAPABILITIES.map((c) => c.name.length));
      for (const c of CAPABILITIES) {
        const note = last !== undefined && c.bit > last ? '  (not supported by this kernel)' : '';
        deps.stdout.write(`${String(c.bit).padStart(2)}  ${c.name.padEnd(w)}  ${c.summary}${note}\n`);
      }
    }
    return EXIT_OK;
  }

  if (args.encode !== undefined) {
    const r = encodeCaps(String(args.encode).split(','));
    if ('empty' in r) throw new CliError(`empty capability name in '${args.encode}' (names or bit numbers, separated by single commas)`);
    if ('unknown' in r) throw new CliError(`unknown capability '${r.unknown[0]}'`);
    if (args.json) deps.stdout.write(jsonText(decoded(r.mask)));
    else deps.stdout.write(`0x${formatMaskHex(r.mask)}\n`);
    return EXIT_OK;
  }

  if (args.pid !== undefined) {
    const pid = parsePid(args.pid);
    const src = sourceFrom(args, deps);
    const p = readProcess(src, pid, ['status']);
    if (!p?.status) {
      if (p?.errors.status === 'PERMISSION_DENIED') throw new CliError(`cannot read ${pid}/status: Permission denied`);
      throw new CliError(`no process with pid ${pid}`);
    }
    const st = p.status;
    if (args.print) {
      if (st.capInh === undefined || st.capPrm === undefined || st.capEff === undefined || st.capBnd === undefined) throw new CliError(`${pid}/status has no capability sets`);
      const users = new UserNames(src);
      const groups = new GroupNames(src);
      const state: CapshState = {
        maxBits: capMaxBits(src, st.capBnd),
        effective: st.capEff,
        inheritable: st.capInh,
        permitted: st.capPrm,
        bounding: st.capBnd,
        ambient: st.capAmb,
        noNewPrivs: st.noNewPrivs,
        uid: { real: st.uid.real, effective: st.uid.effective },
        gid: st.gid.real,
        groups: st.groups,
        userName: (u) => users.lookup(u),
        groupName: (g) => groups.lookup(g),
      };
      deps.stdout.write(args.json ? jsonText({ pid, ...capshPrintJson(state) }) : formatCapshPrint(state));
      return EXIT_OK;
    }
    const sets: [string, string, bigint | undefined][] = [
      ['CapInh', CAP_SETS[0], st.capInh],
      ['CapPrm', CAP_SETS[1], st.capPrm],
      ['CapEff', CAP_SETS[2], st.capEff],
      ['CapBnd', CAP_SETS[3], st.capBnd],
      ['CapAmb', CAP_SETS[4], st.capAmb],
    ];
    if (args.json) {
      deps.stdout.write(jsonText({ pid, sets: Object.fromEntries(sets.filter(([, , m]) => m !== undefined).map(([, n, m]) => [n, decoded(m!)])) }));
    } else {
      for (const [key, , m] of sets) if (m !== undefined) deps.stdout.write(`${key}:\t${formatCapshDecode(m)}\n`);
    }
    return EXIT_OK;
  }

  const values = masks.map((m) => {
    const v = parseCapMask(m);
    if (v === undefined) throw new CliError(`invalid capability mask '${m}'`);
    return v;
  });
  if (args.json) deps.stdout.write(jsonText({ masks: values.map(decoded) }));
  else for (const v of values) deps.stdout.write(`${formatCapshDecode(v)}\n`);
  return EXIT_OK;
}

/**
 * libcap's cap_max_bits(): the kernel's cap_last_cap + 1 (a dump's proc/sys/kernel/cap_last_cap);
 * without that file, one past the highest bit of the bounding set, which the kernel fills up to
 * its last capability for any process that has not dropped the top one.
 */
function capMaxBits(src: ProcSource, bounding: bigint): number {
  try {
    const t = src.readProcText('sys/kernel/cap_last_cap').trim();
    if (/^\d{1,2}$/.test(t) && Number(t) < 64) return Number(t) + 1;
  } catch {
    /* a dump without it */
  }
  return Math.max(LAST_KNOWN_CAP + 1, bounding.toString(2).length);
}
