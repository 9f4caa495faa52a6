import yargs from 'yargs';
import { CAPABILITIES, CAP_SETS, capNames, encodeCaps, formatCapshDecode, formatMaskHex, parseCapMask } from '../src/parse/capabilities.js';
import { readProcess } from '../src/proc/process.js';
import { CliError, EXIT_OK, EXIT_USAGE, parseArgs, parsePid, runHandler, sourceFrom, withRootOptions, type Deps, type RootOptions } from './common.js';

export interface CapdecodeArgs extends RootOptions {
  masks?: string[];
  /** what follows `--` */
  _?: (string | number)[];
  decode?: string[];
  pid?: string;
  json?: boolean;
  encode?: string;
  list?: boolean;
}

const PROG = 'capdecode';

export function capdecodeYargs() {
  return withRootOptions(
    yargs()
      .usage(
        [
          'Usage:',
          '  capdecode <hex-mask>...          decode masks exactly as capsh --decode prints them',
          '  capdecode --pid <pid>            decode the five capability sets of a process',
          '  capdecode --encode <cap,cap...>  names (or bit numbers) to a mask',
          '  capdecode --list                 every capability, its bit and what it allows',
        ].join('\n'),
      )
      .command('$0 [masks..]', false, (y) => y.positional('masks', { type: 'string', array: true, describe: 'capability masks, hex, with or without 0x' }))
      .option('pid', { alias: 'p', type: 'string', describe: 'decode CapInh/CapPrm/CapEff/CapBnd/CapAmb of this process' })
      .option('encode', { alias: 'e', type: 'string', describe: 'comma-separated capability names or numbers to encode' })
      .option('list', { alias: 'l', type: 'boolean', describe: 'list every capability' })
      .option('decode', { type: 'string', array: true, describe: "capsh's spelling: --decode=HEX is the same as capdecode HEX" })
      .option('json', { alias: 'J', type: 'boolean', describe: 'JSON output' })
      .version(false)
      .help('help')
      .alias('help', 'h')
      .epilog('Unlike capsh, a malformed mask is an error (exit 1), not 0.'),
  ).parserConfiguration({ 'parse-numbers': false, 'parse-positional-numbers': false });
}

export async function capdecodeMain(argv: string[], deps: Deps): Promise<number> {
  const parsed = await parseArgs(capdecodeYargs(), argv, PROG, deps);
  if ('exit' in parsed) return parsed.exit;
  return runHandler(PROG, deps, () => handleCapdecode(parsed.args as CapdecodeArgs, deps));
}

function decoded(mask: bigint) {
  const names = capNames(mask);
  return { mask: `0x${formatMaskHex(mask)}`, names: names.filter((n) => !/^\d+$/.test(n)), unknownBits: names.filter((n) => /^\d+$/.test(n)).map(Number) };
}

export function handleCapdecode(args: CapdecodeArgs, deps: Deps): number {
  const masks = [...(args.decode ?? []), ...(args.masks ?? []), ...(args._ ?? [])].map(String);
  const modes = [masks.length > 0, args.pid !== undefined, args.encode !== undefined, args.list === true].filter(Boolean).length;
  if (modes === 0) throw new CliError('no mask given (try capdecode 00000000a80425fb, --pid, --encode or --list)', EXIT_USAGE);
  if (modes > 1) throw new CliError('give masks, --pid, --encode or --list, one at a time', EXIT_USAGE);

  if (args.list) {
    const src = deps.openSource({});
    let last: number | undefined;
    try {
      last = Number(src.readProcText('sys/kernel/cap_last_cap').trim());
    } catch {
      last = undefined;
    }
    if (args.json) {
      deps.stdout.write(`${JSON.stringify({ capabilities: CAPABILITIES.map((c) => ({ ...c, kernelSupports: last === undefined ? null : c.bit <= last })) }, null, 2)}\n`);
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
    if ('unknown' in r) throw new CliError(`unknown capability '${r.unknown[0]}'`);
    if (args.json) deps.stdout.write(`${JSON.stringify(decoded(r.mask), null, 2)}\n`);
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
    const sets: [string, string, bigint | undefined][] = [
      ['CapInh', CAP_SETS[0], st.capInh],
      ['CapPrm', CAP_SETS[1], st.capPrm],
      ['CapEff', CAP_SETS[2], st.capEff],
      ['CapBnd', CAP_SETS[3], st.capBnd],
      ['CapAmb', CAP_SETS[4], st.capAmb],
    ];
    if (args.json) {
      deps.stdout.write(`${JSON.stringify({ pid, sets: Object.fromEntries(sets.filter(([, , m]) => m !== undefined).map(([, n, m]) => [n, decoded(m!)])) }, null, 2)}\n`);
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
  if (args.json) deps.stdout.write(`${JSON.stringify({ masks: values.map(decoded) }, null, 2)}\n`);
  else for (const v of values) deps.stdout.write(`${formatCapshDecode(v)}\n`);
  return EXIT_OK;
}
