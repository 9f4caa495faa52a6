import yargs from 'yargs';
import type { ProcSource } from '../src/source/source.js';
import { NS_TYPES, isNsType, type NsType } from '../src/parse/ns-link.js';
import { ensureCommand, ensureFiles, readProcess, type ProcFile } from '../src/proc/process.js';
import { UserNames } from '../src/proc/users.js';
import { findNamespaces } from '../src/model/namespaces.js';
import type { Container } from '../src/model/containers.js';
import { hierarchyFor, cgroupSysRel, hierarchyName } from '../src/cgroup/layout.js';
import { inspectHost, readCgroupLayout } from '../src/inspect/host.js';
import { nsRelationsReader } from '../src/inspect/ns-relations.js';
import { readControlFiles } from '../src/cgroup/control-files.js';
import { NS_COLUMNS, NS_DEFAULT, PROC_COLUMNS, PROC_DEFAULT, type NsRow, type ProcRow } from '../src/render/columns.js';
import { renderColumnList, renderJson, renderTable, rowObject, selectColumns, toJson, withTreePrefix, type Column } from '../src/render/table.js';
import { buildForest, flattenForest, forestToJson } from '../src/render/tree.js';
import { renderStory, storyJson } from '../src/render/story.js';
import { readStory } from '../src/inspect/story.js';
import { escapeControl } from '../src/render/escape.js';
import {
  CliError,
  EXIT_OK,
  EXIT_USAGE,
  normalizeLongSingleDash,
  parseArgs,
  parsePid,
  runHandler,
  sourceFrom,
  withRootOptions,
  type Deps,
  type RootOptions,
} from './common.js';

export interface CinfArgs extends RootOptions {
  namespace?: string;
  pid?: string;
  cgroup?: string;
  type?: string;
  output?: string;
  'list-columns'?: boolean;
  json?: boolean;
  raw?: boolean;
  'no-headings'?: boolean;
  env?: boolean;
  mounts?: boolean;
  all?: boolean;
  threads?: boolean;
  tree?: string;
}

const PROG = 'cinf';

export function cinfYargs() {
  return withRootOptions(
    yargs()
      .usage(
        [
          'Usage:',
          '  cinf [options]                      list every namespace',
          '  cinf --namespace <inode> [options]  the processes in one namespace',
          '  cinf --pid <pid> [--env] [--mounts] the whole story of one process',
          '  cinf --cgroup <pid>:<hierarchy>     the control files of a cgroup (also --cgroup <path>)',
        ].join('\n'),
      )
      .option('namespace', { alias: 'N', type: 'string', describe: 'show the processes in the namespace with this inode' })
      .option('pid', { alias: 'p', type: 'string', describe: 'show namespaces, cgroups, limits, capabilities and maps of a process' })
      .option('cgroup', { alias: 'c', type: 'string', describe: 'dump control files: PID:HIERARCHY-ID, PID:CONTROLLER, a cgroup path or a /sys/fs/cgroup directory' })
      .option('type', { alias: 't', type: 'string', describe: `only namespaces of this type (${NS_TYPES.join(', ')})` })
      .option('output', { alias: 'o', type: 'string', describe: 'columns to print, comma-separated; +COL adds to the defaults' })
      .option('list-columns', { alias: 'H', type: 'boolean', describe: 'list the columns -o takes' })
      .option('json', { alias: 'J', type: 'boolean', describe: 'JSON output' })
      .option('raw', { alias: 'r', type: 'boolean', describe: 'raw output: single spaces, no alignment' })
      .option('no-headings', { alias: 'n', type: 'boolean', describe: 'do not print a header line' })
      .option('env', { alias: 'e', type: 'boolean', describe: 'with --pid: show the environment' })
      .option('mounts', { alias: 'm', type: 'boolean', describe: 'with --pid: show the mount table' })
      .option('all', { alias: 'a', type: 'boolean', describe: 'include cinf itself in the listing' })
      .option('threads', { type: 'boolean', describe: 'also namespaces that single threads entered (/proc/PID/task/TID/ns): lsns cannot see them' })
      .option('tree', { alias: 'T', type: 'string', describe: 'draw a tree, as lsns -T: process (default), owner (user namespaces), parent (pid and user nesting)' })
      .conflicts('json', 'raw')
      .version(false)
      .help('help')
      .alias('help', 'h')
      .epilog('Exit status: 0 ok, 1 not found or failure, 2 bad usage.'),
  ).parserConfiguration({ 'duplicate-arguments-array': false });
}

export async function cinfMain(argv: string[], deps: Deps): Promise<number> {
  const normalized = normalizeLongSingleDash(argv, ['namespace', 'pid', 'cgroup', 'type', 'output', 'json', 'raw', 'env', 'mounts']);
  const parsed = await parseArgs(cinfYargs(), normalized, PROG, deps);
  if ('exit' in parsed) return parsed.exit;
  return runHandler(PROG, deps, () => handleCinf(parsed.args as CinfArgs, deps));
}

export function handleCinf(args: CinfArgs, deps: Deps): number | Promise<number> {
  const modes = [args.namespace, args.pid, args.cgroup].filter((x) => x !== undefined);
  if (modes.length > 1) throw new CliError('--namespace, --pid and --cgroup are mutually exclusive', EXIT_USAGE);
  const type = parseType(args.type);
  if (args['list-columns']) {
    const cols: Column<never>[] = (args.namespace !== undefined ? PROC_COLUMNS : NS_COLUMNS) as Column<never>[];
    deps.stdout.write(renderColumnList(cols));
    return EXIT_OK;
  }
  const src = sourceFrom(args, deps);
  if (args.namespace !== undefined) return viewNamespace(src, args, deps, type);
  if (args.pid !== undefined) return viewPid(src, args, deps);
  if (args.cgroup !== undefined) return viewCgroup(src, args, deps);
  return viewList(src, args, deps, type);
}

function parseType(t: string | undefined): NsType | undefined {
  if (t === undefined) return undefined;
  if (!isNsType(t)) throw new CliError(`unknown namespace type: ${t}`, EXIT_USAGE);
  return t;
}

function columns<R>(all: Column<R>[], defaults: string[], spec: string | undefined): Column<R>[] {
  const cols = selectColumns(all, defaults, spec);
  if ('unknown' in cols) throw new CliError(`unknown column: ${cols.unknown}`, EXIT_USAGE);
  return cols;
}

function tableOpts(args: CinfArgs, deps: Deps) {
  return { noHeadings: args['no-headings'] === true, raw: args.raw === true, ...(deps.columns !== undefined ? { width: deps.columns } : {}) };
}

function hint(deps: Deps, denied: number): void {
  if (denied > 0 && deps.euid !== 0) {
    deps.stderr.write(`${PROG}: ${denied} processes could not be read in full (permission denied): fields shown as '-'; run as root for the whole picture\n`);
  }
}

/** `cinf`: every namespace. Reads only what the chosen columns need. */
async function viewList(src: ProcSource, args: CinfArgs, deps: Deps, type: NsType | undefined): Promise<number> {
  // like lsns -t net: where the namespaces are bind-mounted matters for network namespaces
  const netDefaults = type === 'net' ? [...NS_DEFAULT.slice(0, -1), 'NSFS', 'CMD'] : NS_DEFAULT;
  const defaults = args.threads ? [...netDefaults.slice(0, -1), 'THREADS', 'CMD'] : netDefaults;
  const cols = columns(NS_COLUMNS, defaults, args.output);
  const ids = new Set(cols.map((c) => c.id));
  const files: ProcFile[] = [];
  if (ids.has('USERS') || ids.has('UID') || ids.has('USER')) files.push('ids');
  if (ids.has('PPID')) files.push('stat');
  if (args.threads) files.push('tasks');
  const host = inspectHost(src, { files, types: type ? [type] : NS_TYPES, containers: ids.has('CONTAINER'), excludeSelf: !args.all, bound: true });
  const users = new UserNames(src);
  if (ids.has('CMD')) for (const g of host.namespaces) if (g.lowest) ensureCommand(src, g.lowest);
  const tree = parseTree(args.tree);
  if (tree === 'process') for (const g of host.namespaces) if (g.lowest) ensureFiles(src, g.lowest, ['stat']);
  const relations = ids.has('PNS') || ids.has('ONS') || tree === 'owner' || tree === 'parent' ? await nsRelationsReader(src) : undefined;
  if ((tree === 'owner' || tree === 'parent') && !relations) {
    throw new CliError(`--tree=${tree} needs the live kernel and the native addon (the NS_GET_USERNS and NS_GET_PARENT ioctls)`);
  }
  const rows: NsRow[] = host.namespaces.map((group) => ({
    group,
    relations: relations?.(group.lowest ? `${src.procRoot}/${group.lowest.pid}/ns/${group.ns.type}` : group.bindMounts[0]!),
    users: uniqueSorted(group.processes.map((p) => p.ids?.uid.effective)),
    userName: (u) => users.name(u),
    containers: uniqueBy(group.processes.map((p) => host.containerOf.get(p.pid)).filter((c): c is Container => !!c), (c) => c.key),
  }));
  if (tree) {
    const forest = buildForest(rows, treeParent(rows, tree));
    if (args.json) {
      deps.stdout.write(`${JSON.stringify({ namespaces: forestToJson(forest, (r) => rowObject(r, cols)) }, null, 2)}\n`);
    } else {
      const flat = flattenForest(forest);
      const prefixes = new Map(flat.map((f) => [f.row, f.prefix]));
      const treeCol = tree === 'process' ? 'CMD' : 'NS';
      deps.stdout.write(renderTable(flat.map((f) => f.row), withTreePrefix(cols, treeCol, (r) => prefixes.get(r) ?? ''), tableOpts(args, deps)));
    }
  } else if (args.json) deps.stdout.write(renderJson('namespaces', rows, cols));
  else deps.stdout.write(renderTable(rows, cols, tableOpts(args, deps)));
  hint(deps, host.snapshot.denied);
  return EXIT_OK;
}

type TreeMode = 'process' | 'owner' | 'parent';

function parseTree(t: string | undefined): TreeMode | undefined {
  if (t === undefined) return undefined;
  const mode = t === '' ? 'process' : t;
  if (mode !== 'process' && mode !== 'owner' && mode !== 'parent') throw new CliError(`invalid tree argument: '${t}' (process, owner or parent)`, EXIT_USAGE);
  return mode;
}

/**
 * Which row a row hangs under. owner: the user namespace that owns it (NS_GET_USERNS); parent:
 * its parent pid or user namespace (NS_GET_PARENT); process: the first row (lowest inode) whose
 * process is its process's parent.
 */
function treeParent(rows: NsRow[], mode: TreeMode): (r: NsRow, i: number) => number | undefined {
  if (mode === 'owner' || mode === 'parent') {
    const index = new Map(rows.map((r, i) => [`${r.group.ns.type}:${r.group.ns.inode}`, i]));
    return (r) => {
      const rel = r.relations;
      if (!rel) return undefined;
      return mode === 'owner' ? (rel.owner ? index.get(`user:${rel.owner}`) : undefined) : rel.parent ? index.get(`${r.group.ns.type}:${rel.parent}`) : undefined;
    };
  }
  return (r, i) => {
    const ppid = r.group.lowest?.stat?.ppid;
    if (ppid === undefined) return undefined;
    const j = rows.findIndex((x, k) => k !== i && x.group.lowest?.pid === ppid);
    return j < 0 ? undefined : j;
  };
}

/** `cinf --namespace INODE`: the processes in it. */
function viewNamespace(src: ProcSource, args: CinfArgs, deps: Deps, type: NsType | undefined): number {
  const text = String(args.namespace).trim();
  if (!/^\d+$/.test(text)) throw new CliError(`invalid namespace argument: '${text}'`, EXIT_USAGE);
  const inode = Number(text);
  const cols = columns(PROC_COLUMNS, PROC_DEFAULT, args.output);
  const ids = new Set(cols.map((c) => c.id));
  // every process's ns links (and cgroups when containers are asked for); the rest only for members
  const host = inspectHost(src, { containers: ids.has('CONTAINER'), excludeSelf: !args.all, bound: true });
  const groups = findNamespaces(host.namespaces, inode).filter((g) => !type || g.ns.type === type);
  if (groups.length === 0) throw new CliError(`not found namespace: ${inode}`);
  for (const g of groups.filter((x) => x.processes.length === 0)) {
    deps.stderr.write(`${PROG}: ${g.ns.type} namespace ${inode} has no process: it is kept by a bind mount at ${g.bindMounts.map(escapeControl).join(', ')}\n`);
  }
  const members = [...new Map(groups.flatMap((g) => g.processes).map((p) => [p.pid, p])).values()].sort((a, b) => a.pid - b.pid);
  for (const p of members) ensureFiles(src, p, ['status', 'cmdline', 'cgroup']);
  const users = new UserNames(src);
  const live = members.filter((p) => p.stat || p.status);
  const rows: ProcRow[] = live.map((p) => ({ p, container: host.containerOf.get(p.pid), userName: (u) => users.name(u) }));
  if (args.json) {
    const types = groups.map((g) => g.ns.type);
    const obj = JSON.parse(renderJson('processes', rows, cols)) as Record<string, unknown>;
    deps.stdout.write(`${JSON.stringify({ namespace: inode, type: types.length === 1 ? types[0] : types, ...obj }, null, 2)}\n`);
  } else deps.stdout.write(renderTable(rows, cols, tableOpts(args, deps)));
  hint(deps, host.snapshot.denied);
  return EXIT_OK;
}

/** `cinf --pid P`: one process, the whole story (read by src/inspect/story.ts). */
function viewPid(src: ProcSource, args: CinfArgs, deps: Deps): number {
  const pid = parsePid(args.pid);
  const story = readStory(src, pid, { env: args.env === true || args.json === true, mounts: args.mounts === true || args.json === true });
  if (!story) throw new CliError(`no process with pid ${pid}`);
  if (args.json) deps.stdout.write(`${JSON.stringify(storyJson(story), null, 2)}\n`);
  else deps.stdout.write(renderStory(story, { env: args.env === true, mounts: args.mounts === true }));
  if (Object.values(story.errors).includes('PERMISSION_DENIED') && deps.euid !== 0) {
    deps.stderr.write(`${PROG}: some files of pid ${pid} are not readable by this user (shown as '-'); run as root for the whole picture\n`);
  }
  return EXIT_OK;
}

/** `cinf --cgroup PID:HIERARCHY | PID:CONTROLLER | PATH`: control files, decoded. */
function viewCgroup(src: ProcSource, args: CinfArgs, deps: Deps): number {
  const spec = String(args.cgroup).trim();
  const layout = readCgroupLayout(src);
  if (layout.mode === 'none') throw new CliError('no cgroup filesystem is mounted (nothing of type cgroup or cgroup2 in self/mountinfo)');
  const dirs: { label: string; dir: string }[] = [];
  const m = /^(\d+):(.+)$/.exec(spec);
  if (m) {
    const pid = parsePid(m[1]);
    const p = readProcess(src, pid, ['cgroup']);
    if (!p?.cgroups) throw new CliError(p?.errors.cgroup === 'PERMISSION_DENIED' ? `cannot read ${pid}/cgroup: Permission denied` : `no process with pid ${pid}`);
    const want = m[2]!;
    const line = /^\d+$/.test(want)
      ? p.cgroups.find((l) => l.hierarchyId === Number(want))
      : p.cgroups.find((l) => l.controllers.includes(want) || (want === 'unified' && l.hierarchyId === 0));
    if (!line) throw new CliError(`pid ${pid} is in no cgroup hierarchy '${want}' (its hierarchies: ${p.cgroups.map((l) => (l.hierarchyId === 0 ? '0 (unified)' : `${l.hierarchyId} (${l.controllers.join(',')})`)).join(', ')})`);
    const h = hierarchyFor(layout, line);
    const dir = h ? cgroupSysRel(h, line.path) : undefined;
    if (!h || dir === undefined) throw new CliError(`hierarchy ${line.hierarchyId}:${line.controllers.join(',')} of pid ${pid} is not mounted where this reader can see it`);
    dirs.push({ label: `${hierarchyName(h)} v${h.version}`, dir });
  } else if (spec.startsWith('/sys/')) {
    const dir = spec.slice('/sys/'.length).replace(/\/+$/, '');
    if (!src.sysExists(dir)) throw new CliError(`no such cgroup directory: ${spec}`);
    const h = layout.hierarchies.find((x) => spec === x.mountPoint || spec.startsWith(`${x.mountPoint}/`));
    dirs.push({ label: h ? `${hierarchyName(h)} v${h.version}` : 'cgroup', dir });
  } else if (spec.startsWith('/')) {
    for (const h of layout.hierarchies) {
      const dir = cgroupSysRel(h, spec);
      if (dir !== undefined && src.sysExists(dir)) dirs.push({ label: `${hierarchyName(h)} v${h.version}`, dir });
    }
    if (dirs.length === 0) throw new CliError(`no cgroup ${spec} in any mounted hierarchy`);
  } else {
    throw new CliError(`invalid cgroup argument: '${spec}' (want PID:HIERARCHY, a cgroup path or a /sys/fs/cgroup directory)`, EXIT_USAGE);
  }
  const result = dirs.map((d) => ({ ...d, files: readControlFiles(src, d.dir) }));
  if (args.json) {
    deps.stdout.write(
      `${JSON.stringify(
        toJson({ cgroups: result.map((r) => ({ hierarchy: r.label, directory: `/sys/${r.dir}`, files: r.files.map((f) => ({ file: f.file, value: f.lines.length === 1 ? f.lines[0] : f.lines, meaning: f.meaning ?? null, error: f.error ?? null })) })) }),
        null,
        2,
      )}\n`,
    );
    return EXIT_OK;
  }
  type Row = { file: string; value: string; meaning: string };
  const cols: Column<Row>[] = [
    { id: 'CONTROLFILE', help: '', json: 'string', value: (r) => r.file },
    { id: 'VALUE', help: '', json: 'string', trunc: true, value: (r) => r.value },
    { id: 'MEANING', help: '', json: 'string', value: (r) => r.meaning },
  ];
  const parts: string[] = [];
  for (const r of result) {
    const rows: Row[] = [];
    for (const f of r.files) {
      if (f.error) rows.push({ file: f.file, value: `- (${f.error})`, meaning: '' });
      else if (f.lines.length === 0) rows.push({ file: f.file, value: '', meaning: '' });
      else f.lines.forEach((l, i) => rows.push({ file: i === 0 ? f.file : '', value: l, meaning: i === 0 ? f.meaning ?? '' : '' }));
    }
    parts.push(`${args['no-headings'] ? '' : `# /sys/${escapeControl(r.dir)} (${r.label})\n`}${renderTable(rows, cols, tableOpts(args, deps))}`);
  }
  deps.stdout.write(parts.join('\n'));
  return EXIT_OK;
}

function uniqueSorted(xs: (number | undefined)[]): number[] {
  return [...new Set(xs.filter((x): x is number => x !== undefined))].sort((a, b) => a - b);
}

function uniqueBy<T>(xs: T[], key: (x: T) => string): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => (seen.has(key(x)) ? false : (seen.add(key(x)), true)));
}
