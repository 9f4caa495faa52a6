/**
 * A strict reader of the two exposition formats, written from the specs (not from our writer):
 * Prometheus text 0.0.4 and OpenMetrics 1.0. It parses a body back into families, and throws on
 * what Prometheus or `promtool check metrics` would refuse or warn about: a sample before its
 * TYPE, a family given twice, a sample whose name does not belong to its family, a counter named
 * without `_total` (text) or with it (OpenMetrics family), a bad label name, an unterminated or
 * badly escaped label value, a value that is not a float, a duplicate label set, a missing or
 * misplaced `# EOF` (OpenMetrics).
 */
export interface ParsedSample {
  name: string;
  labels: [string, string][];
  value: number;
}

export interface ParsedFamily {
  /** as written on the TYPE line */
  name: string;
  type: string;
  help: string | undefined;
  samples: ParsedSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(s: string, where: string): number {
  if (s === 'NaN') return NaN;
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (!/^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(s)) throw new Error(`${where}: bad value ${JSON.stringify(s)}`);
  return Number(s);
}

function unescapeHelp(s: string, where: string, om: boolean): string {
  return s.replace(/\\(.)/g, (_m, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    if (c === '"' && om) return '"';
    throw new Error(`${where}: bad escape \\${c} in HELP`);
  });
}

/** Parse a sample line: name, `{labels}`, value (no timestamps are written by us; refused). */
function parseSample(line: string, where: string): ParsedSample {
  const m = METRIC_NAME.exec(line);
  if (!m) throw new Error(`${where}: no metric name`);
  const name = m[0];
  let i = name.length;
  const labels: [string, string][] = [];
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const ln = LABEL_NAME.exec(line.slice(i));
      if (!ln) throw new Error(`${where}: bad label name at ${i}`);
      i += ln[0].length;
      if (line[i] !== '=' || line[i + 1] !== '"') throw new Error(`${where}: expected =" after ${ln[0]}`);
      i += 2;
      let v = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) throw new Error(`${where}: unterminated label value`);
        if (c === '"') break;
        if (c === '\\') {
          const e = line[i + 1];
          if (e === '\\') v += '\\';
          else if (e === '"') v += '"';
          else if (e === 'n') v += '\n';
          else throw new Error(`${where}: bad escape \\${e} in a label value`);
          i += 2;
          continue;
        }
        v += c;
        i++;
      }
      i++;
      if (labels.some(([k]) => k === ln[0])) throw new Error(`${where}: label ${ln[0]} given twice`);
      labels.push([ln[0], v]);
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new Error(`${where}: expected , or } at ${i}`);
    }
    i++;
  }
  if (line[i] !== ' ') throw new Error(`${where}: expected one space before the value`);
  const rest = line.slice(i + 1);
  if (rest.includes(' ')) throw new Error(`${where}: unexpected timestamp or trailing text`);
  return { name, labels, value: parseValue(rest, where) };
}

export function parseExposition(body: string, format: 'text' | 'openmetrics'): ParsedFamily[] {
  const om = format === 'openmetrics';
  if (!body.endsWith('\n')) throw new Error('body does not end with a newline');
  const lines = body.slice(0, -1).split('\n');
  const families: ParsedFamily[] = [];
  const byName = new Map<string, ParsedFamily>();
  let current: ParsedFamily | undefined;
  let pendingHelp: { name: string; help: string } | undefined;
  const seenSeries = new Set<string>();
  let eof = false;
  lines.forEach((line, n) => {
    const where = `line ${n + 1}`;
    if (eof) throw new Error(`${where}: text after # EOF`);
    if (om && line === '# EOF') {
      eof = true;
      return;
    }
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
      if (!m) {
        if (om) throw new Error(`${where}: comment lines are not allowed in OpenMetrics`);
        return;
      }
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (kind === 'HELP') {
        const help = unescapeHelp(rest, where, om);
        if (current && current.name === name) {
          if (current.help !== undefined) throw new Error(`${where}: second HELP for ${name}`);
          current.help = help;
        } else pendingHelp = { name, help };
        return;
      }
      const types = om ? ['counter', 'gauge', 'info', 'stateset', 'histogram', 'gaugehistogram', 'summary', 'unknown'] : ['counter', 'gauge', 'histogram', 'summary', 'untyped'];
      if (!types.includes(rest)) throw new Error(`${where}: unknown type ${rest}`);
      if (byName.has(name)) throw new Error(`${where}: family ${name} given twice`);
      if (om && rest === 'counter' && name.endsWith('_total')) throw new Error(`${where}: OpenMetrics counter family ${name} must not end in _total`);
      if (!om && rest === 'counter' && !name.endsWith('_total')) throw new Error(`${where}: counter ${name} should end in _total (promtool)`);
      current = { name, type: rest, help: pendingHelp?.name === name ? pendingHelp.help : undefined, samples: [] };
      pendingHelp = undefined;
      families.push(current);
      byName.set(name, current);
      return;
    }
    if (line === '') throw new Error(`${where}: empty line`);
    const s = parseSample(line, where);
    if (!current) throw new Error(`${where}: sample ${s.name} before any TYPE`);
    const want = om ? (current.type === 'counter' ? `${current.name}_total` : current.type === 'info' ? `${current.name}_info` : current.name) : current.name;
    if (s.name !== want) throw new Error(`${where}: sample ${s.name} in family ${current.name} (${current.type})`);
    if (om && current.type === 'counter' && !(s.value >= 0)) throw new Error(`${where}: negative or NaN counter`);
    const key = `${s.name}{${[...s.labels].sort().map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
    if (seenSeries.has(key)) throw new Error(`${where}: duplicate series ${key}`);
    seenSeries.add(key);
    current.samples.push(s);
  });
  if (om && !eof) throw new Error('OpenMetrics body without # EOF');
  return families;
}
