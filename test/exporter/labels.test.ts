/**
 * The label sets collect.ts keeps between scrapes (rendered once per container, namespace, extra
 * label): a scrape must never write a label value an earlier scrape left behind.
 */
import { describe, expect, it } from 'vitest';
import { fixtureSource } from '../helpers/fixtures.js';
import { readExporterSample } from '../../src/exporter/read.js';
import { buildFamilies, cgroupLabels, idsApart } from '../../src/exporter/collect.js';
import { parseNetDevDetail } from '../../src/parse/proc-net-dev.js';
import { labelsText, writeFormat, writeFormatBytes, writeText } from '../../src/exporter/format.js';
import { parseExposition } from './exposition-checker.js';

const META = { durationSeconds: 0, cpuSeconds: 0, success: true, scansTotal: 1, errorsTotal: new Map<string, number>() };

describe('label sets kept between scrapes', () => {
  it('a container renamed between two scrapes (same cgroup) is written with its new name only; the values are this scrape\'s', async () => {
    const { sample } = await readExporterSample(fixtureSource('v2-docker-systemd'));
    const c = sample.cgroups.find((x) => x.container !== undefined)!;
    expect(c).toBeDefined();
    const first = writeText(buildFamilies(sample, META));
    expect(first).toContain(`name="${c.container!.name}"`);
    const renamed = { ...c, container: { ...c.container!, name: 'renamed-x' }, processes: c.processes + 7 };
    const second = writeText(buildFamilies({ ...sample, cgroups: sample.cgroups.map((x) => (x === c ? renamed : x)) }, META));
    const line = second.split('\n').find((l) => l.startsWith('container_processes{') && l.includes(`id="${c.id}"`))!;
    expect(line).toContain('name="renamed-x"');
    expect(line.endsWith(` ${c.processes + 7}`)).toBe(true);
    // the old name is gone from that cgroup's cAdvisor series
    expect(second.split('\n').filter((l) => l.startsWith('container_') && l.includes(`id="${c.id}"`) && l.includes(`name="${c.container!.name}"`))).toEqual([]);
  });

  it('a kept set renders exactly as the labels would one by one (sorted by name, escaped)', async () => {
    const { sample } = await readExporterSample(fixtureSource('v2-docker-systemd'));
    const text = writeText(buildFamilies(sample, META));
    for (const c of sample.cgroups) {
      const want = labelsText([...cgroupLabels(c)].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
      if (c.stats.memory) expect(text).toContain(`container_memory_usage_bytes${want} `);
    }
  });

  it('a cgroup named like another set\'s key (/x\\x01cpu, which a delegated user can mkdir) gets its own labels, never the other cgroup\'s or a label twice', async () => {
    const { sample } = await readExporterSample(fixtureSource('v2-docker-systemd'));
    const plain = sample.cgroups.find((x) => x.container === undefined && x.stats.cpu && x.stats.memory) ?? { ...sample.cgroups.find((x) => x.stats.cpu && x.stats.memory)!, container: undefined };
    const twin = { ...plain, id: `${plain.id}\u0001cpu` };
    for (const order of [[plain, twin], [twin, plain]]) {
      const text = writeText(buildFamilies({ ...sample, cgroups: order }, META));
      expect(() => parseExposition(text, 'text')).not.toThrow();
      const usage = text.split('\n').filter((l) => l.startsWith('container_memory_usage_bytes{'));
      expect(usage).toHaveLength(2);
      expect(usage.some((l) => l.includes('id="' + plain.id + '"'))).toBe(true);
      // the \x01 escaped (escapeControl), then its backslash escaped by the exposition format
      expect(usage.some((l) => l.includes(`id="${plain.id}\\\\x01cpu"`))).toBe(true);
      for (const l of text.split('\n')) expect(l.match(/\bcpu="/g)?.length ?? 0, l).toBeLessThanOrEqual(1);
    }
  });

  it('a cgroup named with the byte 0xFF is written `\\xff`; beside a sibling named with the characters `\\xff` both are written apart (the backslash as \\x5c), never one label set twice', async () => {
    const { sample } = await readExporterSample(fixtureSource('v2-docker-systemd'));
    const plain = { ...sample.cgroups.find((x) => x.stats.cpu && x.stats.memory)!, container: undefined };
    const byte = { ...plain, id: '/tenant/c\udcff' }; // decodeBytes of /tenant/c<FF>
    const chars = { ...plain, id: '/tenant/c\\xff' }; // the four characters \xff
    const unit = { ...plain, id: '/system.slice/dev-disk-by\\x2duuid-1.swap' }; // systemd's own escape
    const ids = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('container_memory_usage_bytes{')).map((l) => /id="([^"]*)"/.exec(l)![1]!).sort();
    // alone, the byte is \xff (written \\xff: the format escapes the backslash) and a unit keeps its \x2d
    const alone = writeText(buildFamilies({ ...sample, cgroups: [byte, unit] }, META));
    expect(ids(alone)).toEqual(['/system.slice/dev-disk-by\\\\x2duuid-1.swap', '/tenant/c\\\\xff']);
    expect(idsApart([byte, unit]).size).toBe(0);
    for (const order of [[byte, chars, unit], [chars, unit, byte]]) {
      const text = writeText(buildFamilies({ ...sample, cgroups: order }, META));
      expect(() => parseExposition(text, 'text')).not.toThrow();
      expect(ids(text)).toEqual(['/system.slice/dev-disk-by\\\\x2duuid-1.swap', '/tenant/c\\\\x5cxff', '/tenant/c\\\\xff']);
    }
    // a third name spelling the second's new text is moved apart too: no two meet
    const third = { ...plain, id: '/tenant/c\\x5cxff' };
    const text = writeText(buildFamilies({ ...sample, cgroups: [byte, chars, third] }, META));
    expect(() => parseExposition(text, 'text')).not.toThrow();
    expect(new Set(ids(text)).size).toBe(3);
    expect(Buffer.from(text, 'utf8').toString('utf8')).toBe(text); // valid UTF-8 throughout
  });

  it('found by review: a C1 control (U+0080) and the byte 0x80 escape alike, and two interfaces of one container whose names escape alike: each written apart, no series twice', async () => {
    const { sample } = await readExporterSample(fixtureSource('v2-docker-systemd'));
    const plain = { ...sample.cgroups.find((x) => x.stats.cpu && x.stats.memory)!, container: undefined };
    const c1 = { ...plain, id: '/x\u0080' }; // a valid UTF-8 name: C2 80
    const byte = { ...plain, id: '/x\udc80' }; // the byte 0x80 alone (decodeBytes)
    const ids = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('container_memory_usage_bytes{')).map((l) => /id="([^"]*)"/.exec(l)![1]!).sort();
    const text = writeText(buildFamilies({ ...sample, cgroups: [c1, byte] }, META));
    expect(() => parseExposition(text, 'text')).not.toThrow();
    expect(new Set(ids(text)).size).toBe(2);
    // interfaces: `e<SOH>` and the characters `e\x01`, which the kernel both accepts as names
    const withCtr = sample.cgroups.find((x) => x.container);
    expect(withCtr).toBeDefined();
    const key = withCtr!.container!.key;
    const head = 'Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n';
    const row = (name: string, n: number): string => `${name}: ${n} 1 0 0 0 0 0 0 ${n} 1 0 0 0 0 0 0\n`;
    const rows = parseNetDevDetail(head + row('eth0', 100) + row('e\u0001', 200) + row('e\\x01', 300));
    expect(rows.map((r) => r.iface)).toEqual(['eth0', 'e\u0001', 'e\\x01']);
    const network = new Map(sample.network);
    network.set(key, rows);
    const net = writeText(buildFamilies({ ...sample, network }, META));
    expect(() => parseExposition(net, 'text')).not.toThrow();
    const rx = net.split('\n').filter((l) => l.startsWith('container_network_receive_bytes_total{') || l.startsWith('container_network_receive_bytes{'));
    // one series per interface: eth0 and the two odd names, their label sets (the line without its value) all different
    const sets = rx.filter((l) => l.includes(`name="`) && /interface="e/.test(l)).map((l) => l.slice(0, l.lastIndexOf(' ')));
    expect(sets.length).toBe(3);
    expect(new Set(sets).size).toBe(3);
  });

  it('the bytes kept with each label set are its text: the server\'s body is the text exposition as UTF-8, scrape after scrape', async () => {
    for (const host of ['v2-docker-systemd', 'v1-docker-seed']) {
      const { sample } = await readExporterSample(fixtureSource(host));
      for (let i = 0; i < 2; i++) {
        for (const format of ['text', 'openmetrics'] as const) {
          const fams = buildFamilies(sample, META);
          expect(writeFormatBytes(format, fams).equals(Buffer.from(writeFormat(format, fams), 'utf8'))).toBe(true);
        }
      }
    }
  });
});
