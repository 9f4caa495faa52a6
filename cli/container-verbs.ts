import type { Deps } from './common.js';

/** `hostscope run|ps|…`: names and one-line help here, the code (cli/container.ts) loaded on use */
const VERBS: Record<string, string> = {
  run: 'run a command in a new container (docker run on runc-ts, one native monitor each)',
  ps: 'list containers made by hostscope run',
  stop: 'stop containers (SIGTERM, then SIGKILL)',
  kill: 'send a signal to containers',
  rm: 'remove containers',
  logs: "print a container's output",
  wait: 'wait for containers to exit, print their exit codes',
  inspect: "a container's record, state and generated config.json",
  exec: 'run a command inside a running container',
  top: "a container's processes with host pids (docker top)",
  update: "change a running container's limits",
  stats: 'CPU, memory and pids of running containers (docker stats)',
};

export const CONTAINER_VERBS: Record<string, { describe: string; load: () => Promise<(argv: string[], deps: Deps) => Promise<number>> }> = Object.fromEntries(
  Object.entries(VERBS).map(([k, describe]) => [k, { describe, load: async () => (await import('./container.js')).CONTAINER_COMMANDS[k]!.main }]),
);
