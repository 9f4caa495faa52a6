import { describe, expect, it } from 'vitest';
import { captureDeps, rootArgs } from '../helpers/fixtures.js';
import { golden } from '../helpers/golden.js';
import { cinfMain } from '../../cli/cinf.js';

/** Issue 10: the seed's pgrep, pstree and "docker inspect" steps as cinf --find, --tree, --container. */

async function cinf(host: string, argv: string[]) {
  const deps = captureDeps();
  const code = await cinfMain([...rootArgs(host), ...argv], deps);
  return { code, out: deps.out(), err: deps.err() };
}

describe('golden: --find, --tree, --container on the seed and the runtimes host', () => {
  it.each([
    ['v1-docker-seed', 'find-redis', ['--find', 'redis']],
    ['v1-docker-seed', 'container-db-tree', ['--container', 'db', '--tree']],
    ['v1-docker-seed', 'pid-25533-tree', ['--pid', '25533', '--tree']],
    ['v1-docker-seed', 'container-db', ['--container', 'db']],
    ['v2-runtimes-names', 'find-nginx', ['--find', 'nginx']],
    ['v2-runtimes-names', 'container-nginx-tree', ['--container', 'nginx', '--tree']],
    ['v2-runtimes-names', 'container-redis-tree-json', ['--container', 'redis', '--tree', '--json']],
    ['v2-runtimes-names', 'find-pod-shop', ['--find', '.', '--pod', 'shop/web-7d9f4', '-o', '+POD']],
  ])('%s %s', async (host, name, argv) => {
    const r = await cinf(host, argv);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    golden(`${host}/cinf-${name}.txt`, r.out);
  });
});

describe('cinf --find', () => {
  it('matches the name or the command line; -x the whole of either', async () => {
    expect((await cinf('v1-docker-seed', ['--find', 'moby', '-q'])).out).toBe('20890\n25514\n'); // in the command line only
    expect((await cinf('v1-docker-seed', ['--find', 'redis', '-x', '-q'])).code).toBe(1); // neither is exactly "redis"
    expect((await cinf('v1-docker-seed', ['--find', 'redis-server', '-x', '-q'])).out).toBe('20892\n'); // comm exactly
  });
  it('--container and --ns filter; -q prints pids only and exits 1 when none match (pgrep)', async () => {
    expect((await cinf('v2-runtimes-names', ['--find', 'nginx', '--container', 'proxy', '-q'])).out).toBe('3310\n');
    expect((await cinf('v2-runtimes-names', ['--find', '.', '--ns', 'net:4026532702', '-q'])).out).toBe('3010\n3020\n'); // the pod's shared net
    expect(await cinf('v2-runtimes-names', ['--find', 'no-such-thing', '-q'])).toMatchObject({ code: 1, out: '', err: '' });
  });
  it('--pod: only the processes of that pod\'s containers (sandbox and app), or of a compose project; a pod no container is in: one line, exit 1', async () => {
    expect((await cinf('v2-runtimes-names', ['--find', '.', '--pod', 'shop/web-7d9f4', '-q'])).out).toBe('3010\n3020\n');
    expect((await cinf('v2-runtimes-names', ['--find', '.', '--pod', 'web-7d9f4', '-q'])).out).toBe('3010\n3020\n'); // NAME alone
    expect((await cinf('v2-runtimes-names', ['--find', 'nginx', '--pod', 'shop/web-7d9f4', '-q'])).out).toBe('3020\n'); // with the regex
    expect((await cinf('v2-runtimes-names', ['--find', '.', '--pod', 'compose:shop', '-q'])).out).toBe('3710\n');
    expect(await cinf('v2-runtimes-names', ['--find', 'redis', '--pod', 'shop/web-7d9f4', '-q'])).toMatchObject({ code: 1, out: '' }); // the pod has no redis
    expect(await cinf('v2-runtimes-names', ['--find', '.', '--pod', 'nope'])).toMatchObject({ code: 1, out: '', err: 'cinf: no container of pod nope\n' });
  });

  it('an invalid regex, a bad --ns, an unknown container: one line, exit 1', async () => {
    const bad = await cinf('v1-docker-seed', ['--find', '(']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^cinf: invalid regular expression '\(': .*\n$/);
    expect(bad.err.split('\n').length).toBe(2);
    expect(await cinf('v1-docker-seed', ['--find', 'x', '--ns', 'bogus'])).toMatchObject({ code: 1, err: "cinf: invalid --ns argument: 'bogus' (want TYPE:INODE, e.g. net:4026532160)\n" });
    expect((await cinf('v1-docker-seed', ['--find', 'x', '--container', 'nope'])).err).toBe("cinf: no container 'nope' (cinf -o +CONTAINER lists them)\n");
    expect((await cinf('v1-docker-seed', ['-q'])).err).toMatch(/--quiet needs --find/);
  });
  it('a hostile regex source is escaped in the error', async () => {
    const r = await cinf('v1-docker-seed', ['--find', '\u001b[31m(']);
    expect(r.err).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
  });
  it('--pid P --tree of a host process: it is in no container', async () => {
    expect(await cinf('v1-docker-seed', ['--pid', '1', '--tree'])).toMatchObject({ code: 1, err: "cinf: pid 1 is in no container (its namespaces are the host's)\n" });
  });
});
