/**
 * Metric families and the two exposition formats Prometheus reads (pure: no I/O).
 *
 * - text 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/): `# HELP`, `# TYPE`,
 *   a counter's family is named with its `_total` (`container_cpu_usage_seconds_total`), an info
 *   family is a gauge of value 1 named `…_info`.
 * - OpenMetrics 1.0: the family name of a counter has no `_total` (its sample has), an info
 *   family is `# TYPE x info` with sample `x_info`, and the body ends with `# EOF`.
 *
 * A family here is stored with its OpenMetrics name (no `_total`, no `_info`); the writers add the
 * suffixes. Label values escape `\` → `\\`, `"` → `\"`, newline → `\n` (both formats); HELP
 * escapes `\` and newline (and `"` in OpenMetrics). A string that is not well-formed UTF-16 (a
 * lone surrogate standing for a byte that was not UTF-8) is made valid first, as `\xNN` text, so
 * the body is always valid UTF-8.
 */

export type MetricType = 'counter' | 'gauge' | 'info';

export interface Sample {
  /** label pairs in the order they are written */
  labels: readonly (readonly [string, string])[];
  value: number;
  /**
   * the labels as written (`{a="x",b="y"}`, escaped; '' for none), when the caller rendered
   * them once for many samples (collect.ts's label sets, checked when made): the writers then
   * use this text as it is instead of rendering `labels` again
   */
  text?: string;
  /** `text` as UTF-8 bytes, when the caller kept them with it (collect.ts's label sets): writeFormatBytes copies them */
  bytes?: Buffer;
}

export interface MetricFamily {
  /** the OpenMetrics family name: no `_total` for a counter, no `_info` for an info */
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

export type ExpositionFormat = 'text' | 'openmetrics';

export const CONTENT_TYPES: Record<ExpositionFormat, string> = {
  text: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The name a sample of this family carries. */
export function sampleName(f: MetricFamily): string {
  return f.type === 'counter' ? `${f.name}_total` : f.type === 'info' ? `${f.name}_info` : f.name;
}

/** Check a family before it is written: names legal, no `_total`/`_info` on the base name. */
export function checkFamily(f: MetricFamily): void {
  if (!METRIC_NAME.test(f.name)) throw new Error(`bad metric name ${JSON.stringify(f.name)}`);
  if (f.type === 'counter' && f.name.endsWith('_total')) throw new Error(`counter ${f.name}: give the name without _total`);
  if (f.type === 'info' && f.name.endsWith('_info')) throw new Error(`info ${f.name}: give the name without _info`);
  for (const s of f.samples) if (s.text === undefined) checkLabelNames(f.name, s.labels);
}

/** Throw on a label name Prometheus would refuse (or reserve: `__`). */
export function checkLabelNames(family: string, labels: Sample['labels']): void {
  for (const [k] of labels) if (!LABEL_NAME.test(k) || k.startsWith('__')) throw new Error(`${family}: bad label name ${JSON.stringify(k)}`);
}

// lone surrogates: a high one not followed by a low one, a low one not preceded by a high one
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Well-formed text: a lone surrogate U+DC80+b (an undecodable byte b) becomes `\xNN`, others `\uXXXX`. */
export function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, (c) => {
    const n = c.charCodeAt(0);
    return n >= 0xdc80 && n <= 0xdcff ? `\\x${(n - 0xdc00).toString(16).padStart(2, '0')}` : `\\u${n.toString(16)}`;
  });
}

const LABEL_ESCAPE = /[\\"\n]/;
export function escapeLabelValue(v: string): string {
  const w = wellFormed(v);
  return LABEL_ESCAPE.test(w) ? w.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : w;
}

function escapeHelp(h: string, quote: boolean): string {
  let out = wellFormed(h).replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  if (quote) out = out.replace(/"/g, '\\"');
  return out;
}

/** A sample value: integers as integers, the rest as the shortest round-trip decimal; NaN, +Inf, -Inf. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e21) return v.toFixed(0);
  return String(v);
}

/** `{a="x",b="y"}` with the values escaped; '' for no labels. */
export function labelsText(labels: Sample['labels']): string {
  if (labels.length === 0) return '';
  let s = '{';
  for (let i = 0; i < labels.length; i++) {
    const [k, v] = labels[i]!;
    s += `${i ? ',' : ''}${k}="${escapeLabelValue(v)}"`;
  }
  return `${s}}`;
}

/** Prometheus text format 0.0.4. */
export function writeText(families: readonly MetricFamily[]): string {
  const out: string[] = [];
  for (const f of families) {
    if (f.samples.length === 0) continue;
    const name = sampleName(f);
    out.push(`# HELP ${name} ${escapeHelp(f.help, false)}\n# TYPE ${name} ${f.type === 'info' ? 'gauge' : f.type}\n`);
    for (const s of f.samples) out.push(`${name}${s.text ?? labelsText(s.labels)} ${formatValue(s.value)}\n`);
  }
  return out.join('');
}

/** OpenMetrics 1.0.0 text. */
export function writeOpenMetrics(families: readonly MetricFamily[]): string {
  const out: string[] = [];
  for (const f of families) {
    if (f.samples.length === 0) continue;
    const name = sampleName(f);
    out.push(`# TYPE ${f.name} ${f.type}\n# HELP ${f.name} ${escapeHelp(f.help, true)}\n`);
    for (const s of f.samples) out.push(`${name}${s.text ?? labelsText(s.labels)} ${formatValue(s.value)}\n`);
  }
  out.push('# EOF\n');
  return out.join('');
}

export function writeFormat(format: ExpositionFormat, families: readonly MetricFamily[]): string {
  return format === 'openmetrics' ? writeOpenMetrics(families) : writeText(families);
}

const NL = 0x0a;
const SP = 0x20;

/**
 * writeFormat as UTF-8 bytes (what the server sends), the same bytes as
 * `Buffer.from(writeFormat(format, families), 'utf8')`, written straight into one buffer: no
 * body-sized string is made, joined and encoded per scrape. A sample's label text is copied from
 * its `bytes` when the caller kept them (encoded once per label set, not per scrape); metric
 * names are encoded once per family, values are ASCII.
 */
export function writeFormatBytes(format: ExpositionFormat, families: readonly MetricFamily[]): Buffer {
  const om = format === 'openmetrics';
  // pass 1: every piece and its length
  const heads: Buffer[] = [];
  const names: Buffer[] = [];
  const labels: Buffer[][] = [];
  const values: string[][] = [];
  let size = om ? 6 : 0;
  for (const f of families) {
    if (f.samples.length === 0) {
      heads.push(EMPTY);
      names.push(EMPTY);
      labels.push([]);
      values.push([]);
      continue;
    }
    const name = sampleName(f);
    const head = Buffer.from(
      om ? `# TYPE ${f.name} ${f.type}\n# HELP ${f.name} ${escapeHelp(f.help, true)}\n` : `# HELP ${name} ${escapeHelp(f.help, false)}\n# TYPE ${name} ${f.type === 'info' ? 'gauge' : f.type}\n`,
      'utf8',
    );
    const nameBytes = Buffer.from(name, 'utf8');
    const ls: Buffer[] = new Array(f.samples.length);
    const vs: string[] = new Array(f.samples.length);
    size += head.length;
    for (let i = 0; i < f.samples.length; i++) {
      const s = f.samples[i]!;
      const l = s.bytes ?? Buffer.from(s.text ?? labelsText(s.labels), 'utf8');
      const v = formatValue(s.value);
      ls[i] = l;
      vs[i] = v;
      size += nameBytes.length + l.length + 1 + v.length + 1;
    }
    heads.push(head);
    names.push(nameBytes);
    labels.push(ls);
    values.push(vs);
  }
  // pass 2: copy
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (let k = 0; k < families.length; k++) {
    const ls = labels[k]!;
    if (ls.length === 0) continue;
    const name = names[k]!;
    const vs = values[k]!;
    at += heads[k]!.copy(out, at);
    for (let i = 0; i < ls.length; i++) {
      at += name.copy(out, at);
      at += ls[i]!.copy(out, at);
      out[at++] = SP;
      at += out.write(vs[i]!, at, 'latin1');
      out[at++] = NL;
    }
  }
  if (om) at += out.write('# EOF\n', at, 'latin1');
  if (at !== size) throw new Error(`writeFormatBytes: wrote ${at} bytes of ${size}`);
  return out;
}

const EMPTY = Buffer.alloc(0);

/**
 * The format for an Accept header: the supported media range with the highest q (ties: the
 * earlier one). OpenMetrics is served only for `application/openmetrics-text` with no version or
 * version 1.0.0; text for `text/plain` with no version or 0.0.4, and for `*\/*`, `text/*`. No
 * header, or nothing acceptable: text 0.0.4 (what client_golang does too).
 */
export function negotiate(accept: string | undefined): ExpositionFormat {
  if (!accept) return 'text';
  let best: { format: ExpositionFormat; q: number } | undefined;
  for (const range of accept.slice(0, 4096).split(',')) {
    const [typeRaw, ...params] = range.split(';');
    const type = typeRaw!.trim().toLowerCase();
    let q = 1;
    let version: string | undefined;
    for (const p of params) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const k = p.slice(0, eq).trim().toLowerCase();
      const v = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
      if (k === 'q') {
        const n = Number(v);
        q = /^[0-9.]+$/.test(v) && n >= 0 && n <= 1 ? n : 0;
      } else if (k === 'version') version = v;
    }
    let format: ExpositionFormat | undefined;
    if (type === 'application/openmetrics-text' && (version === undefined || version === '1.0.0')) format = 'openmetrics';
    else if (type === 'text/plain' && (version === undefined || version === '0.0.4')) format = 'text';
    else if (type === '*/*' || type === 'text/*') format = 'text';
    if (!format || q <= 0) continue;
    if (!best || q > best.q) best = { format, q };
  }
  return best?.format ?? 'text';
}
