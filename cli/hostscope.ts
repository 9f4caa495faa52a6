import { EXIT_OK, EXIT_USAGE, type Deps } from './common.js';
import { escapeControl } from '../src/render/escape.js';
import { CONTAINER_VERBS } from './container-verbs.js';

/** The umbrella: `hostscope <command> …` runs the command's own main with the rest of argv. */
const COMMANDS: Record<string, { describe: string; load: () => Promise<(argv: string[], deps: Deps) => Promise<number>> }> = {
  ctop: { describe: 'the live view of containers as processes (interactive; --once/--json for scripts)', load: async () => (await import('./ctop.js')).ctopMain },
  cinf: { describe: 'namespaces, the processes in them, and the whole story of one process', load: async () => (await import('./cinf.js')).cinfMain },
  nsenter: { describe: "run a program in another process's namespaces (util-linux nsenter compatible)", load: async () => (await import('./nsenter.js')).nsenterMain },
  'runc-ts': { describe: "the OCI runtime, runc's command line (also the runc-ts bin)", load: async () => (await import('./runc.js')).runcMain },
  exporter: { describe: "serve this host's containers, namespaces, cgroups and capabilities to Prometheus (cAdvisor-compatible)", load: async () => (await import('./exporter.js')).exporterMain },
  capdecode: { describe: 'decode capability masks like capsh --decode, per process, both ways', load: async () => (await import('./capdecode.js')).capdecodeMain },
  rootfs: { describe: 'root filesystems: a busybox rootfs, OCI image layouts unpacked', load: async () => (await import('./rootfs.js')).rootfsMain },
  ...CONTAINER_VERBS,
};

/** Commands run with plain fd writes for stdout/stderr (cli/run.ts runMainPlain), as their own bins. */
export const PLAIN_STDIO_COMMANDS: ReadonlySet<string> = new Set(['nsenter', 'runc-ts']);

export async function hostscopeMain(argv: string[], deps: Deps): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) {
    deps.stderr.write(`hostscope: no command given\nTry 'hostscope --help' for more information.\n`);
    return EXIT_USAGE;
  }
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
    const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
    deps.stdout.write(
      `Usage: hostscope <command> [options]\n\nSee what a container really is: processes, namespaces, cgroups, capabilities.\n\nCommands:\n${Object.entries(COMMANDS)
        .map(([k, v]) => `  ${k.padEnd(w)}  ${v.describe}`)
        .join('\n')}\n\nRun 'hostscope <command> --help' for a command's options.\nExit status: 0 ok; 1 failure or bad usage (as util-linux).\n`,
    );
    return EXIT_OK;
  }
  if (cmd === '--version' || cmd === '-V') {
    const { versionLine } = await import('./options.js');
    deps.stdout.write(versionLine('hostscope'));
    return EXIT_OK;
  }
  // the monitor's hook for --net bridge: not a command for people, so not in the list
  if (cmd === 'net-hook') return (await import('./container.js')).CONTAINER_COMMANDS['net-hook']!.main(rest, deps);
  const entry = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (!entry) {
    deps.stderr.write(`hostscope: ${cmd.startsWith('-') ? `unrecognized option '${escapeControl(cmd)}'` : `unknown command '${escapeControl(cmd)}'`}\nTry 'hostscope --help' for more information.\n`);
    return EXIT_USAGE;
  }
  return (await entry.load())(rest, deps);
}
