/**
 * npm run demo: what a container is, shown on this host. Starts a few demo "containers" made of
 * plain namespaces (unless --no-make), shows them with cinf, tells the story of one with
 * cinf --pid, and stops them all again.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Spawned, waitFor, parentMap } from './lib/spawned.js';

const BIN = (n: string): string => join(import.meta.dirname, '../bin', `${n}.js`);
const run = (title: string, bin: string, args: string[]): void => {
  const shown = args.map((a) => (/[\s;$'"]/.test(a) ? `'${a}'` : a)).join(' ');
  process.stdout.write(`\n$ ${bin} ${shown}    # ${title}\n`);
  spawnSync(process.execPath, [BIN(bin), ...args], { stdio: 'inherit' });
};

const spawned = new Spawned();
const stop = async (): Promise<void> => {
  await spawned.stopAll();
};
// a closed pipe (`npm run demo | head`) or a signal must still stop the demo containers first
process.stdout.on('error', () => undefined);
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129], ['SIGPIPE', 141]] as const) {
  process.on(sig, () => void stop().then(() => process.exit(code)));
}
try {
  if (process.geteuid?.() !== 0) process.stdout.write('(not root: the demo containers need unshare as root; showing the host only)\n');
  else {
    const web = spawned.start('unshare', ['--user', '--map-root-user', '--mount', '--uts', '--ipc', '--net', '--pid', '--fork', '--mount-proc', 'sh', '-c', 'hostname demo-web; exec sleep 300']);
    spawned.start('unshare', ['--net', '--uts', 'sleep', '300']);
    await waitFor(() => [...parentMap().values()].includes(web.pid!));
    await sleep(200);
    const init = [...parentMap()].find(([, ppid]) => ppid === web.pid)?.[0];
    run('every namespace, and which container holds it', 'cinf', ['-o', 'NS,TYPE,NPROCS,PID,CONTAINER,CMD']);
    if (init) {
      run('the whole story of one container process', 'cinf', ['--pid', String(init)]);
      run("step into it, like docker exec: the container's hostname and processes", 'nsenter-ts', ['-t', String(init), '-a', 'sh', '-c', 'hostname; ps -e']);
    }
  }
  run('what capabilities a docker container gets by default', 'capdecode', ['00000000a80425fb']);
} finally {
  await stop();
}
