import type { Deps } from './common.js';

/** The umbrella: `hostscope <command> …` runs the command's own main with the rest of argv. */
const COMMANDS: Record<string, { describe: string; load: () => Promise<(argv: string[], deps: Deps) => Promise<number>> }> = {
  ctop: { describe: 'the live view of containers as processes (interactive; --once/--json for scripts)', load: async () => (await import('./ctop.js')).ctopMain },
  cinf: { describe: 'namespaces, the processes in them, and the whole story of one process', load: async () => (await import('./cinf.js')).cinfMain },
  nsenter: { describe: "run a program in another process's namespaces (util-linux nsenter compatible)", load: async () => (await import('./nsenter.js')).nsenterMain },
  capdecode: { describe: 'decode capability masks like capsh --decode, per process, both ways', load: async () => (await import('./capdecode.js')).capdecodeMain },
};

export async function hostscopeMain(argv: string[], deps: Deps): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
    deps.stdout.write(
      `Usage: hostscope <command> [options]\n\nSee what a container really is: processes, namespaces, cgroups, capabilities.\n\nCommands:\n${Object.entries(COMMANDS)
        .map(([k, v]) => `  ${k.padEnd(w)}  ${v.describe}`)
        .join('\n')}\n\nRun 'hostscope <command> --help' for a command's options.\n`,
    );
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '--version' || cmd === '-V') {
    const { packageVersion } = await import('../src/util/package-root.js');
    deps.stdout.write(`hostscope ${packageVersion(import.meta.dirname)}\n`);
    return 0;
  }
  const entry = COMMANDS[cmd];
  if (!entry) {
    deps.stderr.write(`hostscope: unknown command '${cmd}'\nTry 'hostscope --help' for more information.\n`);
    return 2;
  }
  return (await entry.load())(rest, deps);
}
