import { describe, expect, it } from 'vitest';
import { captureDeps, fixtureSource, rootArgs } from '../helpers/fixtures.js';
import { cinfMain } from '../../cli/cinf.js';
import { readStory, storySection, STORY_SECTION_IDS, type ProcessStory } from '../../src/inspect/story.js';
import { renderStory, renderStorySection, storyHeadline } from '../../src/render/story.js';

async function cinf(host: string, argv: string[]) {
  const deps = captureDeps();
  const code = await cinfMain([...rootArgs(host), ...argv], deps);
  return { code, out: deps.out(), err: deps.err() };
}

describe('the process story is data in sections (src/inspect/story.ts)', () => {
  const story = readStory(fixtureSource('v2-docker-systemd'), 1234, { env: true, mounts: true }) as ProcessStory;

  it('has every section, in order, each keyed by id', () => {
    expect(story.sections.map((s) => s.id)).toEqual(STORY_SECTION_IDS);
    const caps = storySection(story, 'capabilities')!;
    expect(caps.sets.map((s) => s.set)).toEqual(['inheritable', 'permitted', 'effective', 'bounding', 'ambient']);
    expect(caps.sets.find((s) => s.set === 'bounding')!.names).toContain('cap_net_bind_service');
    expect(storySection(story, 'security')!.seccomp).toEqual({ mode: 'filter', filters: 1 });
    const ov = storySection(story, 'overview')!;
    expect(ov.container).toMatchObject({ kind: 'container', name: '0a5ceea3df52', initPid: 1234 });
    expect(ov.uid!.effective).toEqual({ id: 999, name: 'redis' });
  });

  it('namespaces say which are the host’s and which are its own', () => {
    const ns = storySection(story, 'namespaces')!;
    expect(ns.entries.find((e) => e.entry === 'user')).toMatchObject({ sharing: 'host', isHost: true });
    expect(ns.entries.find((e) => e.entry === 'net')).toMatchObject({ sharing: 'own', isHost: false, processes: 3 });
    expect(ns.entries.find((e) => e.entry === 'pid_for_children')).toMatchObject({ sharing: 'same-as-own' });
  });

  it('each section renders alone to exactly its part of the whole text (ctop renders them one by one)', () => {
    const whole = renderStory(story, { env: true, mounts: true });
    const parts = [`${storyHeadline(storySection(story, 'overview')!)}\n`, ...story.sections.map((s) => renderStorySection(s))];
    expect(parts.join('\n')).toBe(whole);
  });

  it('without env/mounts the story has no environment or mounts section', () => {
    const s = readStory(fixtureSource('v2-docker-systemd'), 1234)!;
    expect(s.sections.map((x) => x.id)).not.toContain('environment');
    expect(s.sections.map((x) => x.id)).not.toContain('mounts');
  });

  it('an absent pid has no story', () => {
    expect(readStory(fixtureSource('v2-docker-systemd'), 424242)).toBeUndefined();
  });
});

describe('issue 6 bug 9: with every namespace link denied, nothing is said about the host', () => {
  // vm-hybrid-v1's pid 1 (process_api) denies every /proc/1/ns/* readlink even to root
  it('the data says unknown, with the reason', () => {
    const story = readStory(fixtureSource('vm-hybrid-v1'), 1)!;
    expect(storySection(story, 'overview')!.container).toEqual({ kind: 'unknown', because: 'its namespaces could not be read (permission denied)' });
    const ns = storySection(story, 'namespaces')!;
    expect(ns.unknown).toEqual({ reason: 'denied', because: 'permission denied' });
    expect(ns.entries.every((e) => e.sharing === 'unknown' && e.unknown?.reason === 'denied')).toBe(true);
  });
  it('cinf --pid 1 says unknown, not "all its namespaces are the host’s"', async () => {
    const r = await cinf('vm-hybrid-v1', ['--pid', '1']);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('all its namespaces are the host');
    expect(r.out).toMatch(/container +unknown: its namespaces could not be read \(permission denied\)/);
  });
  it('a process whose namespaces were read and are the host’s still says so', async () => {
    const r = await cinf('vm-hybrid-v1', ['--pid', '2']);
    expect(r.out).toMatch(/container +none: all its namespaces are the host’s/);
  });
});

describe('issue 6 bug 3 (JSON half): resource figures name their directory as an absolute path', () => {
  it.each(['vm-hybrid-v1', 'v2-docker-systemd'])('%s: every resources.*.dir starts with /sys/', async (host) => {
    const pid = host === 'vm-hybrid-v1' ? 2 : 1234;
    const r = await cinf(host, ['--pid', String(pid), '--json']);
    const res = (JSON.parse(r.out) as { resources: Record<string, { dir: string } | null> }).resources;
    const dirs = Object.values(res).filter((x): x is { dir: string } => x !== null).map((x) => x.dir);
    expect(dirs.length).toBeGreaterThan(0);
    for (const d of dirs) expect(d).toMatch(/^\/sys\/fs\/cgroup/);
  });
});
