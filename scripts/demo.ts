/**
 * npm run demo: what a container is, shown on this host. Starts the demo containers of
 * `ctop --demo` (tui/demo.ts: `hostscope run` busybox containers with memory and pid limits, one
 * with only lo in its network namespace, one sharing another's; plain namespaces where hostscope
 * run cannot work), shows them with cinf, tells the story of one with cinf --pid, steps into it
 * with nsenter-ts, and removes them all again — also on Ctrl-C, SIGTERM, a closed pipe.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startDemo } from '../tui/demo.js';

const BIN = (n: string): string => join(import.meta.dirname, '../bin', `${n}.js`);
const run = (title: string, bin: string, args: string[]): void => {
  const shown = args.map((a) => (/[\s;$'"]/.test(a) ? `'${a}'` : a)).join(' ');
  process.stdout.write(`\n$ ${bin} ${shown}    # ${title}\n`);
  spawnSync(process.execPath, [BIN(bin), ...args], { stdio: 'inherit' });
};

const stops: (() => Promise<void>)[] = [];
const stop = async (): Promise<void> => {
  for (const s of stops.splice(0)) await s();
};
// a closed pipe (`npm run demo | head`) or a signal must still remove the demo containers first
process.stdout.on('error', () => undefined);
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129], ['SIGPIPE', 141]] as const) {
  process.on(sig, () => void stop().then(() => process.exit(code)));
}
try {
  if (process.geteuid?.() !== 0) process.stdout.write('(not root: the demo containers need root; showing the host only)\n');
  else {
    const demo = await startDemo((line) => process.stdout.write(`${line.replace(/^ctop: /, '')}\n`), { onStop: (s) => stops.push(s), removedWhen: 'this demo ends' });
    const webName = demo.names.find((n) => n.startsWith('demo-web')) ?? demo.names[0]!;
    const init = demo.inits.get(webName) ?? demo.inits.get('web');
    if (demo.via === 'hostscope run') run('the containers, as docker ps shows them', 'hostscope', ['ps']);
    run('every namespace, and which container holds it', 'cinf', ['-o', 'NS,TYPE,NPROCS,PID,CONTAINER,CMD']);
    if (init) {
      run('the whole story of one container process', 'cinf', ['--pid', String(init)]);
      run("step into it, like docker exec: the container's hostname and processes", 'nsenter-ts', ['-t', String(init), '-a', 'sh', '-c', 'hostname; ps']);
    }
  }
  run('what capabilities a docker container gets by default', 'capdecode', ['00000000a80425fb']);
} finally {
  await stop();
}
