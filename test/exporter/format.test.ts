import { describe, expect, it } from 'vitest';
import { CONTENT_TYPES, escapeLabelValue, formatValue, labelsText, negotiate, writeFormat, writeFormatBytes, writeOpenMetrics, writeText, type MetricFamily } from '../../src/exporter/format.js';
import { parseExposition } from './exposition-checker.js';
import { parseNetDevDetail } from '../../src/parse/proc-net-dev.js';

const FAMILIES: MetricFamily[] = [
  { name: 'container_cpu_usage_seconds', type: 'counter', help: 'Cumulative cpu time consumed in seconds.', samples: [{ labels: [['cpu', 'total'], ['id', '/a']], value: 1.5 }] },
  { name: 'container_memory_usage_bytes', type: 'gauge', help: 'Help with a \\ backslash\nand a newline and a "quote"', samples: [{ labels: [], value: 4096 }] },
  {
    name: 'hostscope_namespace',
    type: 'info',
    help: 'x',
    samples: [
      // the three escapes of a label value, a lone surrogate (an undecodable byte) and a U+1F480 pair
      { labels: [['name', 'a\\b"c\nd'], ['odd', 'x\udc9by'], ['emoji', '\u{1f480}']], value: 1 },
    ],
  },
  { name: 'empty_family', type: 'gauge', help: 'no samples: not written', samples: [] },
];

describe('exposition writers', () => {
  it.each(['text', 'openmetrics'] as const)('writeFormatBytes (what the server sends) is writeFormat as UTF-8, byte for byte (%s)', (format) => {
    // with and without label text and bytes kept by the caller; escapes, a lone surrogate, a pair, NaN and Inf values
    const withBytes: MetricFamily[] = FAMILIES.map((f) => ({ ...f, samples: f.samples.map((x) => ({ ...x, text: labelsText(x.labels), bytes: Buffer.from(labelsText(x.labels), 'utf8') })) }));
    const odd: MetricFamily[] = [{ name: 'odd_values', type: 'gauge', help: 'é', samples: [NaN, Infinity, -Infinity, 1e21, 0.1, -0].map((value, i) => ({ labels: [['i', String(i)]], value })) }];
    for (const fams of [FAMILIES, withBytes, odd, []]) {
      const bytes = writeFormatBytes(format, fams);
      expect(bytes.equals(Buffer.from(writeFormat(format, fams), 'utf8'))).toBe(true);
    }
    expect(writeFormatBytes(format, FAMILIES).toString('utf8')).toContain('\u{1f480}');
  });

  it('text 0.0.4: counters carry _total on HELP, TYPE and samples; info is a gauge named _info', () => {
    const t = writeText(FAMILIES);
    expect(t).toContain('# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds.\n# TYPE container_cpu_usage_seconds_total counter\ncontainer_cpu_usage_seconds_total{cpu="total",id="/a"} 1.5\n');
    expect(t).toContain('# TYPE hostscope_namespace_info gauge\n');
    expect(t).not.toContain('empty_family');
    expect(t).not.toContain('# EOF');
  });

  it('OpenMetrics: family names without _total/_info, samples with them, ends with # EOF', () => {
    const t = writeOpenMetrics(FAMILIES);
    expect(t).toContain('# TYPE container_cpu_usage_seconds counter\n');
    expect(t).toContain('\ncontainer_cpu_usage_seconds_total{cpu="total",id="/a"} 1.5\n');
    expect(t).toContain('# TYPE hostscope_namespace info\n');
    expect(t.endsWith('\n# EOF\n')).toBe(true);
  });

  it('escapes label values (\\\\, \\", \\n) and HELP (\\\\, \\n; \\" in OpenMetrics only)', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    const t = writeText(FAMILIES);
    expect(t).toContain('# HELP container_memory_usage_bytes Help with a \\\\ backslash\\nand a newline and a "quote"\n');
    expect(writeOpenMetrics(FAMILIES)).toContain('Help with a \\\\ backslash\\nand a newline and a \\"quote\\"\n');
  });

  it('a lone surrogate (a byte that was not UTF-8) is written as \\xNN text: the body is valid UTF-8', () => {
    const t = writeText(FAMILIES);
    expect(t).toContain('odd="x\\\\x9by"');
    expect(t).toContain('emoji="\u{1f480}"');
    expect(Buffer.from(t, 'utf8').toString('utf8')).toBe(t);
  });

  it.each(['text', 'openmetrics'] as const)('round-trips through the strict checker (%s)', (format) => {
    const body = format === 'text' ? writeText(FAMILIES) : writeOpenMetrics(FAMILIES);
    const parsed = parseExposition(body, format);
    expect(parsed.map((f) => f.name)).toEqual(
      format === 'text' ? ['container_cpu_usage_seconds_total', 'container_memory_usage_bytes', 'hostscope_namespace_info'] : ['container_cpu_usage_seconds', 'container_memory_usage_bytes', 'hostscope_namespace'],
    );
    expect(parsed[1]!.help).toBe(FAMILIES[1]!.help);
    expect(parsed[2]!.samples[0]!.labels).toEqual([['name', 'a\\b"c\nd'], ['odd', 'x\\x9by'], ['emoji', '\u{1f480}']]);
    expect(parsed[0]!.samples[0]!.value).toBe(1.5);
  });

  it('values: integers exactly, floats shortest, NaN and infinities spelled as Prometheus does', () => {
    expect(formatValue(0)).toBe('0');
    expect(formatValue(18446744073709551615)).toBe('18446744073709551616');
    expect(formatValue(0.1)).toBe('0.1');
    expect(formatValue(NaN)).toBe('NaN');
    expect(formatValue(Infinity)).toBe('+Inf');
    expect(formatValue(-Infinity)).toBe('-Inf');
  });

  it('refuses a counter named with _total and a bad label name (a bug, caught before writing)', async () => {
    const { checkFamily } = await import('../../src/exporter/format.js');
    expect(() => checkFamily({ name: 'x_total', type: 'counter', help: '', samples: [] })).toThrow(/without _total/);
    expect(() => checkFamily({ name: 'x', type: 'gauge', help: '', samples: [{ labels: [['bad-name', '']], value: 1 }] })).toThrow(/bad label name/);
  });
});

describe('content negotiation', () => {
  it('exact content types', () => {
    expect(CONTENT_TYPES.text).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(CONTENT_TYPES.openmetrics).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
  });
  it.each([
    [undefined, 'text'],
    ['', 'text'],
    ['*/*', 'text'],
    ['text/plain', 'text'],
    ['application/openmetrics-text', 'openmetrics'],
    // Prometheus 2.x/3.x scrape header: OpenMetrics 1.0.0 preferred
    ['application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1', 'openmetrics'],
    ['application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2', 'openmetrics'],
    // the scrape_protocols: [PrometheusText0.0.4] choice
    ['text/plain;version=0.0.4;q=0.5,*/*;q=0.1', 'text'],
    // text preferred by q even when OpenMetrics is listed first
    ['application/openmetrics-text;version=1.0.0;q=0.2,text/plain;version=0.0.4;q=0.9', 'text'],
    // a version we do not write is not chosen
    ['application/openmetrics-text;version=2.0.0', 'text'],
    // q=0 means "not acceptable"
    ['application/openmetrics-text;q=0,text/plain', 'text'],
    // garbage
    ['%%%;;;,,,q=', 'text'],
  ])('Accept %j → %s', (accept, want) => {
    expect(negotiate(accept)).toBe(want);
  });
});

describe('parseNetDevDetail (/proc/<pid>/net/dev)', () => {
  const HEAD = 'Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n';
  it('reads each interface, receive and transmit columns in their places', () => {
    const rows = parseNetDevDetail(`${HEAD}    lo:    3193      29    0    0    0     0          0         0     3193      29    0    0    0     0       0          0\n  eth0: 100 2 3 4 0 0 0 0 200 5 6 7 0 0 0 0\n`);
    expect(rows).toEqual([
      { iface: 'lo', rxBytes: 3193, rxPackets: 29, rxErrors: 0, rxDropped: 0, txBytes: 3193, txPackets: 29, txErrors: 0, txDropped: 0 },
      { iface: 'eth0', rxBytes: 100, rxPackets: 2, rxErrors: 3, rxDropped: 4, txBytes: 200, txPackets: 5, txErrors: 6, txDropped: 7 },
    ]);
  });
  it('a long name runs into the colon (no space): "verylongname15:123 …"', () => {
    const rows = parseNetDevDetail(`${HEAD}verylongname15:123 1 0 0 0 0 0 0 9 1 0 0 0 0 0 0\n`);
    expect(rows[0]).toMatchObject({ iface: 'verylongname15', rxBytes: 123, txBytes: 9 });
  });
  it('a u64 counter at its maximum is kept (as the nearest double)', () => {
    const rows = parseNetDevDetail(`${HEAD}  eth0: 18446744073709551615 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n`);
    expect(rows[0]!.rxBytes).toBe(2 ** 64);
  });
  it('an empty namespace (only headers) has no interfaces', () => {
    expect(parseNetDevDetail(HEAD)).toEqual([]);
  });
  it.each([
    ['15 counters', `${HEAD}  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n`, /16 counters/],
    ['a negative counter', `${HEAD}  eth0: -1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n`, /u64/],
    ['a counter past u64', `${HEAD}  eth0: 18446744073709551616 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n`, /u64/],
    ['no name', `${HEAD}  : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n`, /interface name/],
    ['the same interface twice', `${HEAD}  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n`, /twice/],
  ])('refuses %s with a parse error naming the file', (_case, text, re) => {
    expect(() => parseNetDevDetail(text, '42/net/dev')).toThrow(re);
    expect(() => parseNetDevDetail(text, '42/net/dev')).toThrow(/42\/net\/dev/);
  });
});
