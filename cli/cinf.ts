import type { ProcSource } from '../src/source/source.js';
import { NS_TYPES, isNsType, type NsType } from '../src/parse/ns-link.js';
import { readProcess, withRowFiles, type ProcFile } from '../src/proc/process.js';
import { UserNames } from '../src/proc/users.js';
import { findNamespaces } from '../src/model/namespaces.js';
import type { Container } from '../src/model/containers.js';
import { findContainer, lookupMessage } from '../src/model/container-lookup.js';
import { podMatches } from '../src/model/container-names.js';
import { hierarchyFor, cgroupSysRel, hierarchyName, isPlainCgroupPath, resolveCgroupDirectory } from '../src/cgroup/layout.js';
import type { ProcessInfo } from '../src/model/process.js';
import { inspectHost, readCgroupLayout } from '../src/inspect/host.js';
import { scanHost } from '../src/inspect/scan.js';
import { nsRelationsReader } from '../src/inspect/ns-relations.js';
import { withUtsNames } from '../src/inspect/uts.js';
import { monitorOf } from '../src/inspect/names.js';
import { readControlFiles } from '../src/cgroup/control-files.js';
import { NS_COLUMNS, NS_DEFAULT, PROC_COLUMNS, PROC_DEFAULT, columnReads, type NsRow, type ProcRow } from '../src/render/columns.js';
import { displayWidth, renderColumnList, renderJson, renderTable, rowObject, selectColumns, shortenMiddle, shortenPath, toJson, withTreePrefix, type Column } from '../src/render/table.js';
import { buildForest, flattenForest, forestToJson } from '../src/render/tree.js';
import { renderStory, storyJson } from '../src/render/story.js';
import { readStory } from '../src/inspect/story.js';
import { escapeControl, jsonText } from '../src/render/escape.js';
import { membersOf, readCgroupTree, type CgroupTreeNode } from '../src/cgroup/tree.js';
import { CGROUP_COLUMNS, CGROUP_DEFAULT, cgroupTreeJson, renderCgroupTree, type CgroupRow, type CgroupTreeContext } from '../src/render/cgroup-tree.js';
import { containerFromCgroupPath } from '../src/model/cgroup-names.js';
import { commandOf, effectiveUid } from '../src/model/process.js';
import type { CgroupHierarchy, CgroupLayout } from '../src/cgroup/layout.js';
import { isProcError } from '../src/source/errors.js';
import { parseProcStatus } from '../src/parse/proc-status.js';
import { parseProcStat } from '../src/parse/proc-stat.js';
import { safeInteger } from '../src/parse/numbers.js';
import {
  CliError,
  EXIT_OK,
  EXIT_USAGE,
  PROC_ROOT_OPTION,
  SYS_ROOT_OPTION,
  UsageError,
  normalizeLongSingleDash,
  parsePid,
  runHandler,
  sourceFrom,
  type Deps,
  type RootOptions,
} from './common.js';
import { HELP_OPTION, VERSION_OPTION, flag, helpText, lastString, parseOptions, versionLine, type OptionSpec } from './options.js';

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
  pod?: string;
  debug?: boolean;
  find?: string;
  exact?: boolean;
  quiet?: boolean;
  container?: string;
  ns?: string;
  cgroups?: boolean;
  /** the operand of --cgroups: a cgroup path, a /sys/fs/cgroup directory or a container */
  cgroupsPath?: string;
  hierarchy?: string;
  depth?: string;
}

const PROG = 'cinf';

const OPTIONS: OptionSpec[] = [
  { long: 'namespace', short: 'N', arg: 'required', argName: '<inode>', help: 'show the processes in the namespace with this inode' },
  { long: 'pid', short: 'p', arg: 'required', argName: '<pid>', help: 'show namespaces, cgroups, limits, capabilities and maps of a process' },
  { long: 'cgroup', short: 'c', arg: 'required', argName: '<spec>', help: 'dump control files: PID:HIERARCHY-ID, PID:CONTROLLER, a cgroup path or a /sys/fs/cgroup directory' },
  { long: 'type', short: 't', arg: 'required', argName: '<type>', help: `only namespaces of this type (${NS_TYPES.join(', ')})` },
  { long: 'output', short: 'o', arg: 'required', argName: '<list>', help: 'columns to print, comma-separated; +COL adds to the defaults' },
  { long: 'list-columns', short: 'H', arg: 'none', help: 'list the columns -o takes' },
  { long: 'json', short: 'J', arg: 'none', help: 'JSON output' },
  { long: 'raw', short: 'r', arg: 'none', help: 'raw output: single spaces, no alignment' },
  { long: 'no-headings', short: 'n', arg: 'none', help: 'do not print a header line' },
  { long: 'env', short: 'e', arg: 'none', help: 'with --pid: show the environment' },
  { long: 'mounts', short: 'm', arg: 'none', help: 'with --pid: show the mount table' },
  { long: 'all', short: 'a', arg: 'none', help: 'include cinf itself in the listing' },
  { long: 'threads', arg: 'none', help: 'also namespaces that single threads entered (/proc/PID/task/TID/ns): lsns cannot see them' },
  {
    long: 'tree',
    short: 'T',
    arg: 'optional',
    argName: '[=<mode>]',
    help: 'draw a tree: process (the default here; lsns -T defaults to owner), owner (user namespaces), parent (pid and user nesting)',
  },
  { long: 'pod', arg: 'required', argName: '<pod>', help: 'only what the containers of this Kubernetes pod (NAME, NAMESPACE/NAME or uid) or compose project (compose:PROJECT) hold (namespace list, --namespace, --find)' },
  { long: 'find', arg: 'required', argName: '<regex>', help: 'pgrep-like: the processes whose name or command line matches, with their containers' },
  { long: 'exact', short: 'x', arg: 'none', help: 'with --find: the whole name or command line must match' },
  { long: 'quiet', short: 'q', arg: 'none', help: 'with --find: print only the pids, one a line (exit 1 when none)' },
  { long: 'container', arg: 'required', argName: '<name>', help: "a container (name, id, id prefix, member pid): its init's story and its members; with --tree its process tree; with --find a filter" },
  { long: 'ns', arg: 'required', argName: '<type:inode>', help: 'with --find: only processes in this namespace (net:4026532160)' },
  { long: 'cgroups', arg: 'none', help: 'the cgroup tree (from PATH, a /sys/fs/cgroup directory or a container, if given) with each group\'s processes, container, tasks, limits and usage' },
  { long: 'hierarchy', arg: 'required', argName: '<ctrl>', help: 'with --cgroups: the hierarchy carrying this controller (memory, cpu, name=systemd, unified) or all; default unified on v2, memory on v1' },
  { long: 'depth', arg: 'required', argName: '<n>', help: 'with --cgroups: show groups at most this many levels below the start' },
  { long: 'debug', arg: 'none', help: "say on stderr why a runtime's file was not used to name a container" },
  PROC_ROOT_OPTION,
  SYS_ROOT_OPTION,
  HELP_OPTION,
  VERSION_OPTION,
];

const USAGE = [
  'cinf --find <regex> [-x] [-q]        pgrep-like, with each process\'s container',
  'cinf --container <name> [--tree]     a container: its init\'s story and members, or its process tree',
  'cinf --pid <pid> --tree              the process tree of the container pid is in',
  'cinf [options]                      list every namespace',
  'cinf --namespace <inode> [options]  the processes in one namespace',
  'cinf --pid <pid> [--env] [--mounts] the whole story of one process',
  'cinf --cgroup <pid>:<hierarchy>     the control files of a cgroup (also --cgroup <path>)',
  'cinf --cgroups [<path>] [--hierarchy <ctrl>] [--depth <n>]  the cgroup tree: processes, containers, limits, usage',
];

export function cinfHelp(): string {
  return helpText(USAGE, OPTIONS, ['Exit status: 0 ok; 1 failure or bad usage (as util-linux lsns).']);
}

/** argv → CinfArgs, or a usage error (missing argument, unknown option, stray operand, …). */
export function parseCinfArgs(argv: string[]): CinfArgs | { help: true } | { version: true } {
  const r = parseOptions(normalizeLongSingleDash(argv, ['namespace', 'pid', 'cgroup', 'type', 'output', 'json', 'raw', 'env', 'mounts']), OPTIONS);
  if (!r.ok) throw new UsageError(r.message);
  const p = r.parsed;
  if (flag(p, 'help')) return { help: true };
  if (flag(p, 'version')) return { version: true };
  const cgroups = flag(p, 'cgroups');
  if (p.operands.length > (cgroups ? 1 : 0)) throw new UsageError(`unexpected argument '${p.operands[cgroups ? 1 : 0]}'`);
  const args: CinfArgs = {};
  if (cgroups) {
    args.cgroups = true;
    if (p.operands[0] !== undefined) args.cgroupsPath = p.operands[0];
  }
  for (const k of ['namespace', 'pid', 'cgroup', 'type', 'output', 'tree', 'pod', 'find', 'container', 'ns', 'hierarchy', 'depth', 'proc-root', 'sys-root'] as const) {
    const v = lastString(p, k);
    if (v !== undefined) args[k] = v;
  }
  for (const k of ['list-columns', 'json', 'raw', 'no-headings', 'env', 'mounts', 'all', 'threads', 'debug', 'exact', 'quiet'] as const) if (flag(p, k)) args[k] = true;
  if (args.find === undefined) {
    if (args.exact) throw new UsageError('--exact needs --find');
    if (args.quiet) throw new UsageError('--quiet needs --find');
    if (args.ns !== undefined) throw new UsageError('--ns needs --find');
  }
  if (!args.cgroups) {
    if (args.hierarchy !== undefined) throw new UsageError('--hierarchy needs --cgroups');
    if (args.depth !== undefined) throw new UsageError('--depth needs --cgroups');
  }
  if (args.pod !== undefined && (args.pid !== undefined || args.cgroup !== undefined)) throw new UsageError('--pod goes with the namespace list or --namespace');
  if (args.pod === '') throw new UsageError('--pod needs a pod name');
  if (args.json && args.raw) throw new UsageError('--json and --raw are mutually exclusive');
  if (args.pid === undefined && args.container === undefined) {
    if (args.env) throw new UsageError('--env needs --pid or --container');
    if (args.mounts) throw new UsageError('--mounts needs --pid or --container');
  }
  return args;
}

export async function cinfMain(argv: string[], deps: Deps): Promise<number> {
  return runHandler(PROG, deps, () => {
    const args = parseCinfArgs(argv);
    if ('help' in args) {
      deps.stdout.write(cinfHelp());
      return EXIT_OK;
    }
    if ('version' in args) {
      deps.stdout.write(versionLine(PROG));
      return EXIT_OK;
    }
    return handleCinf(args, deps);
  });
}

export function handleCinf(args: CinfArgs, deps: Deps): number | Promise<number> {
  const modes = [args.namespace, args.pid, args.cgroup, args.find, args.cgroups].filter((x) => x !== undefined);
  if (modes.length > 1) throw new UsageError('--namespace, --pid, --cgroup, --cgroups and --find are mutually exclusive');
  if (args.cgroups && (args.container !== undefined || args.tree !== undefined || args.pod !== undefined)) throw new UsageError('--cgroups takes a path or a container name, not --container, --tree or --pod');
  if (args.container !== undefined && (args.namespace !== undefined || args.pid !== undefined || args.cgroup !== undefined)) throw new UsageError('--container goes alone, with --tree or with --find');
  const type = parseType(args.type);
  if (args['list-columns'] && args.cgroups) {
    deps.stdout.write(renderColumnList(CGROUP_COLUMNS));
    return EXIT_OK;
  }
  if (args['list-columns']) {
    // the columns of the view chosen: --namespace, --find and --container (a process table) take PROC_COLUMNS
    const procView = args.namespace !== undefined || args.find !== undefined || args.container !== undefined || (args.pid !== undefined && args.tree !== undefined);
    const cols: Column<never>[] = (procView ? PROC_COLUMNS : NS_COLUMNS) as Column<never>[];
    deps.stdout.write(renderColumnList(cols));
    return EXIT_OK;
  }
  const src = sourceFrom(args, deps);
  if (args.cgroups) return viewCgroups(src, args, deps);
  if (args.find !== undefined) return viewFind(src, args, deps);
  if (args.container !== undefined || (args.pid !== undefined && args.tree !== undefined)) return viewContainer(src, args, deps);
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

/** The chosen columns (the very descriptors of `all`, so what they read comes along). */
function columns<R, C extends Column<R>>(all: C[], defaults: string[], spec: string | undefined): C[] {
  const cols = selectColumns<R>(all, defaults, spec);
  if ('unknown' in cols) throw new CliError(`unknown column: ${cols.unknown}`, EXIT_USAGE);
  return cols as C[];
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
  const tree = parseTree(args.tree);
  // what is read follows from the columns (and the tree: a process tree needs each row's parent pid)
  const reads = columnReads([...cols, ...(tree === 'process' ? [{ files: ['stat'] as ProcFile[] }] : []), ...(tree === 'owner' || tree === 'parent' ? [{ relations: true }] : [])]);
  const scanFiles = args.threads ? [...reads.scanFiles, 'tasks' as const] : reads.scanFiles;
  // the native scan when live with the addon (the same model as inspectHost); a CLI may block, so no slicing
  const wantContainers = reads.containers || args.pod !== undefined || args.debug === true;
  const scanned = await scanHost(src, { files: scanFiles, types: type ? [type] : NS_TYPES, containers: wantContainers, excludeSelf: !args.all, bound: true, sliceMs: Infinity });
  // the last name source: the hostname inside an unnamed container's uts namespace (live, native)
  const host = wantContainers ? await withUtsNames(src, scanned) : scanned;
  debugNotes(args, deps, host.notes);
  const users = new UserNames(src);
  const relations = reads.relations ? await nsRelationsReader(src) : undefined;
  if ((tree === 'owner' || tree === 'parent') && !relations) {
    throw new CliError(`--tree=${tree} needs the live kernel and the native addon (the NS_GET_USERNS and NS_GET_PARENT ioctls)`);
  }
  // each row's process with its own files read: new objects, the snapshot is left as it was
  // (one read per process, however many of its namespaces are rows)
  const enriched = new Map<number, ProcessInfo>();
  const enrich = (p: ProcessInfo): ProcessInfo => enriched.get(p.pid) ?? enriched.set(p.pid, withRowFiles(src, p, reads.files)).get(p.pid)!;
  const groups = host.namespaces.map((g) => (g.lowest && reads.files.length > 0 ? { ...g, lowest: enrich(g.lowest) } : g));
  const allRows: NsRow[] = groups.map((group) => ({
    group,
    relations: relations?.(group.lowest ? `${src.procRoot}/${group.lowest.pid}/ns/${group.ns.type}` : group.bindMounts[0]!),
    users: effectiveUids(group.processes),
    userName: (u) => users.name(u),
    containers: wantContainers ? uniqueBy(group.processes.map((p) => host.containerOf.get(p.pid)).filter((c): c is Container => !!c), (c) => c.key) : [],
  }));
  // --pod: the namespaces its containers are in (not the host's, which every pod shares some of)
  const rows = args.pod === undefined ? allRows : allRows.filter((r) => !r.group.isHost && r.containers.some((c) => podMatches(c, args.pod!)));
  if (args.pod !== undefined && rows.length === 0) throw new CliError(`no container of pod ${args.pod}`);
  if (tree) {
    const forest = buildForest(rows, treeParent(rows, tree));
    if (args.json) {
      deps.stdout.write(jsonText({ namespaces: forestToJson(forest, (r) => rowObject(r, cols)) }));
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
async function viewNamespace(src: ProcSource, args: CinfArgs, deps: Deps, type: NsType | undefined): Promise<number> {
  const text = String(args.namespace).trim();
  // exact or refused: inodes are safe integers everywhere (parseNsLink), so Number() must not round 23 digits to 1e+23
  if (!/^\d+$/.test(text)) throw new CliError(`invalid namespace argument: '${text}'`, EXIT_USAGE);
  const inode = safeInteger(text);
  // lsns's strtou64_or_err words; above 2^53 the project refuses rather than keep two number types
  if (inode === undefined) throw new CliError(`invalid namespace argument: '${text}': Numerical result out of range`, EXIT_USAGE);
  const cols = columns(PROC_COLUMNS, PROC_DEFAULT, args.output);
  const reads = columnReads(cols);
  // every process's ns links (and cgroups when containers are asked for); the rest only for members
  const wantContainers = reads.containers || args.pod !== undefined || args.debug === true;
  const inspected = inspectHost(src, { containers: wantContainers, excludeSelf: !args.all, bound: true });
  // named as every other view names them (src/inspect/uts.ts withUtsNames)
  const host = wantContainers ? await withUtsNames(src, inspected) : inspected;
  debugNotes(args, deps, host.notes);
  const groups = findNamespaces(host.namespaces, inode).filter((g) => !type || g.ns.type === type);
  if (groups.length === 0) throw new CliError(`not found namespace: ${inode}`);
  for (const g of groups.filter((x) => x.processes.length === 0)) {
    deps.stderr.write(`${PROG}: ${g.ns.type} namespace ${inode} has no process: it is kept by a bind mount at ${g.bindMounts.map(escapeControl).join(', ')}\n`);
  }
  // stat tells a live member from one gone since the scan; the columns name the rest
  const files: ProcFile[] = ['stat', ...reads.files];
  const members = [...new Map(groups.flatMap((g) => g.processes).map((p) => [p.pid, p])).values()].sort((a, b) => a.pid - b.pid).map((p) => withRowFiles(src, p, files));
  const users = new UserNames(src);
  const live = members.filter((p) => (p.stat || p.status) && (args.pod === undefined || podMatchesOpt(host.containerOf.get(p.pid), args.pod)));
  const rows: ProcRow[] = live.map((p) => ({ p, container: host.containerOf.get(p.pid), userName: (u) => users.name(u) }));
  if (args.json) {
    const types = groups.map((g) => g.ns.type);
    const obj = JSON.parse(renderJson('processes', rows, cols)) as Record<string, unknown>;
    deps.stdout.write(jsonText({ namespace: inode, type: types.length === 1 ? types[0] : types, ...obj }));
  } else deps.stdout.write(renderTable(rows, cols, tableOpts(args, deps)));
  hint(deps, host.snapshot.denied);
  return EXIT_OK;
}

/** `cinf --pid P`: one process, the whole story (read by src/inspect/story.ts). */
async function viewPid(src: ProcSource, args: CinfArgs, deps: Deps): Promise<number> {
  const pid = parsePid(args.pid);
  // its container named as every other view names it (src/inspect/uts.ts withUtsNames)
  const host = await withUtsNames(src, inspectHost(src, { containers: true }));
  const story = readStory(src, pid, { env: args.env === true || args.json === true, mounts: args.mounts === true || args.json === true, host });
  if (!story) throw new CliError(whyUnreadable(src, pid));
  if (args.json) deps.stdout.write(jsonText(storyJson(story)));
  else deps.stdout.write(renderStory(story, { env: args.env === true, mounts: args.mounts === true }));
  if (Object.values(story.errors).includes('PERMISSION_DENIED') && deps.euid !== 0) {
    deps.stderr.write(`${PROG}: some files of pid ${pid} are not readable by this user (shown as '-'); run as root for the whole picture\n`);
  }
  return EXIT_OK;
}

/**
 * pid P is listed but neither its stat nor its status could be used: say what was wrong (junk,
 * a symlink loop, unreadable) instead of "no process" (issue 6 #18).
 */
function whyUnreadable(src: ProcSource, pid: number): string {
  for (const file of ['status', 'stat'] as const) {
    try {
      const text = src.readProcText(`${pid}/${file}`);
      if (file === 'status') parseProcStatus(text, `${pid}/status`);
      else parseProcStat(text, `${pid}/stat`);
    } catch (e) {
      if (!isProcError(e)) throw e;
      if (e.code === 'PROCESS_GONE') return `no process with pid ${pid}`;
      return `pid ${pid}: ${e.message}`;
    }
  }
  return `no process with pid ${pid}`;
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
    // resolved first: `/sys/../tmp/x` is /tmp/x, which no cgroup mount holds (issue 6 #15)
    const found = resolveCgroupDirectory(layout, spec);
    if (!found) throw new CliError(`not a directory of a mounted cgroup hierarchy: ${spec}`);
    if (!src.sysExists(found.rel)) throw new CliError(`no such cgroup directory: ${spec}`);
    dirs.push({ label: `${hierarchyName(found.h)} v${found.h.version}`, dir: found.rel });
  } else if (spec.startsWith('/')) {
    const under = (path: string): void => {
      for (const h of layout.hierarchies) {
        const dir = cgroupSysRel(h, path);
        if (dir !== undefined && src.sysExists(dir)) dirs.push({ label: `${hierarchyName(h)} v${h.version}`, dir });
      }
    };
    under(spec);
    if (dirs.length === 0) {
      // a container's cgroup with its id shortened (/docker/f3b9): the shared resolver (issue 6, bug 8)
      const r = findContainer(inspectHost(src, { containers: true }).containers, spec);
      if (!r.ok && r.candidates.length > 0) throw new CliError(lookupMessage(r));
      if (r.ok && r.container.cgroupPath !== undefined) under(r.container.cgroupPath);
    }
    if (dirs.length === 0) throw new CliError(`no cgroup ${spec} in any mounted hierarchy`);
  } else {
    throw new CliError(`invalid cgroup argument: '${spec}' (want PID:HIERARCHY, a cgroup path or a /sys/fs/cgroup directory)`, EXIT_USAGE);
  }
  const result = dirs.map((d) => ({ ...d, files: readControlFiles(src, d.dir) }));
  if (args.json) {
    deps.stdout.write(
      jsonText(toJson({ cgroups: result.map((r) => ({ hierarchy: r.label, directory: `/sys/${r.dir}`, files: r.files.map((f) => ({ file: f.file, value: f.lines.length === 1 ? f.lines[0] : f.lines, meaning: f.meaning ?? null, error: f.error ?? null })) })) })),
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

/** `cinf --find REGEX [-x] [--container C] [--ns TYPE:INODE] [-q]`: pgrep, with containers. */
async function viewFind(src: ProcSource, args: CinfArgs, deps: Deps): Promise<number> {
  const pattern = args.find!;
  let re: RegExp;
  try {
    re = new RegExp(args.exact ? `^(?:${pattern})$` : pattern, 'u');
  } catch (e) {
    throw new CliError(`invalid regular expression '${escapeControl(pattern)}': ${escapeControl((e as Error).message.replace(/^Invalid regular expression: /, ''))}`, EXIT_USAGE);
  }
  let nsFilter: { type: NsType; inode: number } | undefined;
  if (args.ns !== undefined) {
    const m = /^([a-z_]+):(\d{1,20})$/.exec(args.ns.trim());
    if (!m || !isNsType(m[1]!) || safeInteger(m[2]!) === undefined) throw new CliError(`invalid --ns argument: '${escapeControl(args.ns)}' (want TYPE:INODE, e.g. net:4026532160)`, EXIT_USAGE);
    nsFilter = { type: m[1] as NsType, inode: safeInteger(m[2]!)! };
  }
  const host = await withUtsNames(src, inspectHost(src, { files: ['stat', 'cmdline'], containers: true, excludeSelf: !args.all }));
  debugNotes(args, deps, host.notes);
  let only: Container | undefined;
  if (args.container !== undefined) {
    const r = findContainer(host.containers, args.container);
    if (!r.ok) throw new CliError(lookupMessage(r));
    only = r.container;
  }
  // --pod: only the processes of that pod's (or compose project's) containers
  if (args.pod !== undefined && !host.containers.some((c) => podMatches(c, args.pod!))) throw new CliError(`no container of pod ${escapeControl(args.pod)}`);
  const hits = host.snapshot.processes.filter((p) => {
    if (only && !only.pids.includes(p.pid)) return false;
    if (args.pod !== undefined && !podMatchesOpt(host.containerOf.get(p.pid), args.pod)) return false;
    if (nsFilter) {
      const id = p.ns?.[nsFilter.type];
      if (!id || id.inode !== nsFilter.inode) return false;
    }
    const comm = p.stat?.comm ?? p.comm ?? '';
    const cmd = p.cmdline && p.cmdline.length > 0 ? p.cmdline.join(' ') : '';
    return re.test(comm) || (cmd !== '' && re.test(cmd));
  });
  if (args.quiet) {
    deps.stdout.write(hits.map((p) => `${p.pid}\n`).join(''));
    return hits.length > 0 ? EXIT_OK : 1;
  }
  const cols = columns(PROC_COLUMNS, ['PID', 'NSPID', 'CONTAINER', 'NAME', 'CMD'], args.output);
  // what the chosen columns read, for the rows shown only
  const members = hits.map((p) => withRowFiles(src, p, ['status', ...columnReads(cols).files]));
  const users = new UserNames(src);
  const rows: ProcRow[] = members.map((p) => ({ p, container: host.containerOf.get(p.pid), userName: (u) => users.name(u) }));
  if (args.json) deps.stdout.write(renderJson('processes', rows, cols));
  else if (rows.length > 0) deps.stdout.write(renderTable(rows, cols, tableOpts(args, deps)));
  return hits.length > 0 ? EXIT_OK : 1;
}

/**
 * `cinf --container C` (its init's story, then its members), `cinf --container C --tree` and
 * `cinf --pid P --tree` (the container's process tree, host pid and NSpid side by side, under its
 * runtime's shim or monitor, as pstree shows it).
 */
async function viewContainer(src: ProcSource, args: CinfArgs, deps: Deps): Promise<number> {
  // cinf itself stays in the model (the story counts every process in a namespace, as --pid's
  // does); it is left out of the members listed below unless --all
  const host = await withUtsNames(src, inspectHost(src, { files: ['stat', 'cmdline'], containers: true }));
  const self = args.all ? undefined : src.selfPid();
  debugNotes(args, deps, host.notes);
  let c: Container | undefined;
  if (args.container !== undefined) {
    const r = findContainer(host.containers, args.container);
    if (!r.ok) throw new CliError(lookupMessage(r));
    c = r.container;
  } else {
    const pid = parsePid(args.pid);
    c = host.containerOf.get(pid);
    if (!c) {
      if (!host.snapshot.processes.some((p) => p.pid === pid)) throw new CliError(`no process with pid ${pid}`);
      throw new CliError(`pid ${pid} is in no container (its namespaces are the host's)`);
    }
  }
  // cinf's own process is no monitor and no member (unless --all)
  const byPid = new Map(host.snapshot.processes.filter((p) => p.pid !== self).map((p) => [p.pid, p]));
  const users = new UserNames(src);
  const monitor = monitorOf(c, byPid);
  const memberSet = new Set(c.pids.filter((p) => p !== self));
  const cols = columns(PROC_COLUMNS, args.tree !== undefined ? ['PID', 'NSPID', 'USER', 'CMD'] : ['PID', 'PPID', 'NSPID', 'USER', 'STATE', 'CMD'], args.output);
  const procs = [...(monitor ? [monitor] : []), ...c.pids.map((pid) => byPid.get(pid)).filter((p): p is ProcessInfo => !!p)].map((p) => withRowFiles(src, p, ['status', ...columnReads(cols).files]));
  const rows: ProcRow[] = procs.map((p) => ({ p, container: memberSet.has(p.pid) ? c : undefined, userName: (u) => users.name(u) }));
  if (args.tree !== undefined) {
    const index = new Map(rows.map((r, i) => [r.p.pid, i]));
    const forest = buildForest(rows, (r) => index.get(r.p.stat?.ppid ?? r.p.status?.ppid ?? -1));
    if (args.json) {
      deps.stdout.write(jsonText({ container: containerJson(c), processes: forestToJson(forest, (r) => rowObject(r, cols)) }));
      return EXIT_OK;
    }
    const flat = flattenForest(forest);
    const prefixes = new Map(flat.map((f) => [f.row, f.prefix]));
    deps.stdout.write(`${containerHeadline(c)}\n${renderTable(flat.map((f) => f.row), withTreePrefix(cols, 'CMD', (r) => prefixes.get(r) ?? ''), tableOpts(args, deps))}`);
    return EXIT_OK;
  }
  // the story's container is this one, named the same (not a second scan that names it otherwise)
  const story = readStory(src, c.initPid, { env: args.env === true, mounts: args.mounts === true, host });
  const memberRows = rows.filter((r) => memberSet.has(r.p.pid));
  if (args.json) {
    deps.stdout.write(jsonText({ container: containerJson(c), init: story ? storyJson(story) : null, members: memberRows.map((r) => rowObject(r, cols)) }));
    return EXIT_OK;
  }
  const parts = [`${containerHeadline(c)}\n`];
  if (story) parts.push(renderStory(story, { env: args.env === true, mounts: args.mounts === true }));
  parts.push(`\nmembers (${memberRows.length})\n${renderTable(memberRows, cols, tableOpts(args, deps))}`);
  deps.stdout.write(parts.join(''));
  return EXIT_OK;
}

function containerHeadline(c: Container): string {
  const bits = [c.runtime, ...(c.id ? [c.id] : []), ...(c.image ? [`image ${c.image}`] : []), ...(c.pod ? [`pod ${c.podNamespace ? `${c.podNamespace}/` : ''}${c.pod}`] : []), ...(c.project ? [`compose project ${c.project}`] : []), `init pid ${c.initPid}`];
  return escapeControl(`container ${c.name} (${bits.join(', ')})`);
}

function containerJson(c: Container): Record<string, unknown> {
  return { name: c.name, runtime: c.runtime, id: c.id ?? null, image: c.image ?? null, pod: c.pod ?? null, podNamespace: c.podNamespace ?? null, project: c.project ?? null, initPid: c.initPid, pids: c.pids, cgroupPath: c.cgroupPath ?? null };
}

/** --debug: why a runtime's file was not used (escaped: the notes quote host files) */
function debugNotes(args: CinfArgs, deps: Deps, notes: readonly string[]): void {
  if (!args.debug) return;
  for (const n of notes) deps.stderr.write(`${PROG}: debug: ${escapeControl(n)}\n`);
}

function podMatchesOpt(c: Container | undefined, spec: string): boolean {
  return c !== undefined && podMatches(c, spec);
}

/** the sorted distinct effective uids of these processes (a loop: the host's namespaces hold every process) */
function effectiveUids(ps: readonly ProcessInfo[]): number[] {
  const seen = new Set<number>();
  let last: number | undefined;
  let lastOwner: ProcessInfo['owner'];
  // an indexed loop (cinf runs without TurboFan: a for-of is an iterator call per process), and
  // neighbours mostly share an owner record (the native scan shares one per uid and gid): the
  // set is asked only when the uid changes
  for (let i = 0; i < ps.length; i++) {
    const p = ps[i]!;
    const o = p.owner;
    if (o !== undefined && o === lastOwner) continue;
    lastOwner = o;
    const u = o !== undefined && p.ids === undefined && p.status === undefined ? o.uid : effectiveUid(p);
    if (u !== undefined && u !== last) seen.add((last = u));
  }
  return [...seen].sort((a, b) => a - b);
}

function uniqueBy<T>(xs: T[], key: (x: T) => string): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => (seen.has(key(x)) ? false : (seen.add(key(x)), true)));
}

/** The hierarchy `cinf --cgroups` shows without --hierarchy: unified on v2, else memory (where `ls /sys/fs/cgroup/memory/docker` looks), else name=systemd, else the first. */
function defaultHierarchy(layout: CgroupLayout): CgroupHierarchy {
  const hs = layout.hierarchies;
  if (layout.mode === 'v2') return hs.find((h) => h.version === 2)!;
  return hs.find((h) => h.version === 1 && h.controllers.includes('memory')) ?? hs.find((h) => h.controllers.includes('name=systemd')) ?? hs[0]!;
}

/** `--hierarchy CTRL`: the hierarchy carrying CTRL (`memory`, `cpu,cpuacct`, `name=systemd` or `systemd`, `unified`), or all of them. */
function chooseHierarchies(layout: CgroupLayout, want: string | undefined): CgroupHierarchy[] {
  if (want === undefined) return [defaultHierarchy(layout)];
  if (want === 'all') return layout.hierarchies;
  const w = want.trim();
  const found = layout.hierarchies.find((h) =>
    w === 'unified' || w === '0' ? h.version === 2 : h.version === 1 && (h.controllers.join(',') === [...w.split(',')].sort().join(',') || h.controllers.includes(w) || h.controllers.includes(`name=${w}`)),
  );
  if (!found) throw new CliError(`no cgroup hierarchy '${escapeControl(w)}' is mounted (mounted: ${layout.hierarchies.map(hierarchyName).join('; ')})`);
  return [found];
}

/**
 * `cinf --cgroups [PATH] [--hierarchy CTRL] [--depth N]`: the cgroup tree of a hierarchy with each
 * group's processes and container (systemd-cgls), its tasks, limits and usage (systemd-cgtop, one
 * sample). PATH is a cgroup path, a /sys/fs/cgroup directory (which names its hierarchy) or a
 * container (its init's cgroup in the hierarchy).
 */
async function viewCgroups(src: ProcSource, args: CinfArgs, deps: Deps): Promise<number> {
  let depth: number | undefined;
  if (args.depth !== undefined) {
    if (!/^\d{1,4}$/.test(args.depth.trim())) throw new CliError(`invalid --depth argument: '${escapeControl(args.depth)}' (want 0 to 9999)`, EXIT_USAGE);
    depth = Number(args.depth.trim());
  }
  const cols = columns(CGROUP_COLUMNS, CGROUP_DEFAULT, args.output);
  const layout = readCgroupLayout(src);
  if (layout.mode === 'none') throw new CliError('no cgroup filesystem is mounted (nothing of type cgroup or cgroup2 in self/mountinfo)');
  let hierarchies = chooseHierarchies(layout, args.hierarchy);
  const spec = args.cgroupsPath;
  let start: string | ((h: CgroupHierarchy) => string | undefined) = '/';
  if (spec !== undefined && spec.startsWith('/sys/')) {
    const found = resolveCgroupDirectory(layout, spec);
    if (!found) throw new CliError(`not a directory of a mounted cgroup hierarchy: ${escapeControl(spec)}`);
    if (args.hierarchy !== undefined && !hierarchies.includes(found.h)) throw new CliError(`${escapeControl(spec)} is in the ${hierarchyName(found.h)} hierarchy, not --hierarchy ${escapeControl(args.hierarchy)}`, EXIT_USAGE);
    hierarchies = [found.h];
    const below = found.rel.slice(found.h.mountPoint.length - '/sys/'.length).replace(/^\/+/, '');
    start = found.h.root === '/' ? `/${below}` : below === '' ? found.h.root : `${found.h.root}/${below}`;
  } else if (spec !== undefined && spec.startsWith('/')) {
    if (!isPlainCgroupPath(spec)) throw new CliError(`invalid cgroup path: '${escapeControl(spec)}' (no . or .. components)`, EXIT_USAGE);
    start = spec;
  }
  const host = await withUtsNames(src, inspectHost(src, { files: ['stat', 'cmdline'], containers: true, excludeSelf: !args.all }));
  debugNotes(args, deps, host.notes);
  const byPid = new Map(host.snapshot.processes.map((p) => [p.pid, p]));
  if (spec !== undefined && !spec.startsWith('/')) {
    // a container: where its init is in each hierarchy
    const r = findContainer(host.containers, spec);
    if (!r.ok) throw new CliError(lookupMessage(r));
    const init = byPid.get(r.container.initPid);
    start = (h) => init && membersOf(layout, h, [init]).get(init.pid);
  }
  const byId = new Map(host.containers.filter((c) => c.id !== undefined).map((c) => [c.id!, c.name]));
  const ctx: CgroupTreeContext = {
    // the container the path names (docker-ID.scope, /docker/ID, machine-NAME.scope …); else the
    // one container every process of the group is in (an unshare sandbox), never a mix (the root)
    containerOf: (n: CgroupTreeNode) => {
      const ref = containerFromCgroupPath(n.path);
      if (ref) return byId.get(ref.id) ?? ref.name;
      const names = new Set(n.pids.map((pid) => host.containerOf.get(pid)?.name));
      const [only] = names;
      return names.size === 1 && only !== undefined ? only : undefined;
    },
    processOf: (pid: number) => {
      const p = byPid.get(pid);
      return { pid, command: p ? commandOf(p) : '?' };
    },
  };
  const sections: { h: CgroupHierarchy; root: CgroupTreeNode }[] = [];
  for (const h of hierarchies) {
    const from = typeof start === 'string' ? start : start(h);
    if (from === undefined) continue;
    const root = readCgroupTree(src, layout, h, from, membersOf(layout, h, host.snapshot.processes), { depth });
    if (root) sections.push({ h, root });
  }
  if (sections.length === 0) {
    const where = hierarchies.length === 1 ? `the ${hierarchyName(hierarchies[0]!)} hierarchy` : 'any mounted hierarchy';
    throw new CliError(`no cgroup ${escapeControl(typeof start === 'string' ? start : spec ?? '/')} in ${where}`);
  }
  if (args.json) {
    const out = sections.map(({ h, root }) => ({ hierarchy: hierarchyName(h), version: h.version, mountPoint: h.mountPoint, tree: cgroupTreeJson(root, ctx) }));
    // each tree is toJson'd group by group (cgroupTreeJson): toJson over the whole would recurse as deep as the tree
    deps.stdout.write(jsonText({ cgroupMode: layout.mode, cgroups: out }));
    return EXIT_OK;
  }
  const parts = sections.map(({ h, root }) => {
    const dir = root.rel === undefined ? `${h.mountPoint}${root.path === '/' ? '' : root.path} (not in this dump)` : `/sys/${root.rel}`;
    const title = `# ${escapeControl(dir)} (${hierarchyName(h)} v${h.version})`;
    // on a terminal the header fits too: the directory gives up its middle
    const fitted = deps.columns !== undefined && displayWidth(title) > deps.columns ? `# ${shortenPath(escapeControl(dir), Math.max(8, deps.columns - displayWidth(title) + displayWidth(escapeControl(dir))))} (${hierarchyName(h)} v${h.version})` : title;
    const head = args['no-headings'] ? '' : `${deps.columns !== undefined && displayWidth(fitted) > deps.columns ? shortenMiddle(fitted, deps.columns) : fitted}\n`;
    return `${head}${renderCgroupTree(root, ctx, cols as Column<CgroupRow>[], tableOpts(args, deps))}`;
  });
  deps.stdout.write(parts.join('\n'));
  hint(deps, host.snapshot.denied);
  return EXIT_OK;
}
