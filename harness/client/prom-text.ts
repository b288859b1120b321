/**
 * A strict reader of the Prometheus text exposition format 0.0.4, what GET /metrics answers
 * (https://prometheus.io/docs/instrumenting/exposition_formats/). It refuses what a Prometheus
 * server would refuse, or would silently misread: a bad name, label or value, a TYPE after its
 * samples or given twice, a family split in two groups, a series given twice, a negative counter,
 * and histograms without their +Inf bucket, with buckets out of order or decreasing, or whose
 * +Inf bucket differs from their _count. Tests use it to check every protocol's /metrics; the
 * dashboard reads the event-loop delay with it.
 */

export type PromType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  type: PromType;
  help: string | null;
  samples: PromSample[];
}

export interface PromHistogram {
  /** Cumulative counts by upper bound, ascending; the last bound is +Infinity. */
  buckets: Array<{ le: number; count: number }>;
  sum: number;
  count: number;
}

export class PromTextError extends Error {}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES: readonly string[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];
/** Go's strconv.ParseFloat, which Prometheus uses: decimal or exponent notation, Inf and NaN in any case. */
const FLOAT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])$/;

/** Every family by name, in the order the text gives them; throws PromTextError on the first fault. */
export function parsePromText(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  const closed = new Set<string>(); // families whose group of lines has ended
  const series = new Set<string>();
  const typed = new Set<string>();
  let current: PromFamily | null = null;
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((line, i) => {
    const fail: (why: string) => never = (why) => {
      throw new PromTextError(`line ${i + 1}: ${why}: ${JSON.stringify(line.slice(0, 200))}`);
    };
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const meta = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (meta === null) return; // a plain comment
      const [, kind, name = '', rest = ''] = meta;
      if (METRIC_NAME.exec(name)?.[0] !== name) fail('bad metric name');
      const family = enter(name, fail);
      if (kind === 'TYPE') {
        if (!TYPES.includes(rest.trim())) fail('unknown type');
        if (typed.has(name) || family.samples.length > 0) fail('TYPE given twice or after samples');
        typed.add(name);
        family.type = rest.trim() as PromType;
      } else {
        if (family.help !== null) fail('HELP given twice');
        family.help = unescapeHelp(rest);
      }
      return;
    }
    const sample = parseSample(line, fail);
    const family = enter(familyName(sample.name, families), fail);
    if (!belongs(sample.name, family)) fail(`sample does not belong to the ${family.type} ${family.name}`);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (series.has(key)) fail('the same series twice');
    series.add(key);
    if (family.type === 'counter' && !(sample.value >= 0)) fail('a counter must be a non-negative number');
    family.samples.push(sample);
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;

  function enter(name: string, fail: (why: string) => never): PromFamily {
    if (current?.name === name) return current;
    if (closed.has(name)) fail(`the lines of ${name} are not one group`);
    if (current !== null) closed.add(current.name);
    current = families.get(name) ?? { name, type: 'untyped', help: null, samples: [] };
    families.set(name, current);
    return current;
  }
}

/** The value of the one sample of `name` whose labels include `labels`, or undefined. */
export function sampleValue(families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = families.get(familyName(name, families));
  return family?.samples.find((s) => s.name === name && matches(s.labels, labels))?.value;
}

/** The histogram `name` for the label set that includes `labels` (the first one), or undefined. */
export function histogramOf(families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): PromHistogram | undefined {
  const family = families.get(name);
  if (family?.type !== 'histogram') return undefined;
  const first = family.samples.find((s) => s.name === `${name}_count` && matches(s.labels, labels));
  if (first === undefined) return undefined;
  const own = family.samples.filter((s) => sameSeries(s.labels, first.labels));
  const buckets = own.filter((s) => s.name === `${name}_bucket`).map((s) => ({ le: parseFloatGo(s.labels['le'] ?? ''), count: s.value }));
  return { buckets, sum: own.find((s) => s.name === `${name}_sum`)?.value ?? NaN, count: first.value };
}

function parseSample(line: string, fail: (why: string) => never): PromSample {
  const name = METRIC_NAME.exec(line)?.[0];
  if (name === undefined) fail('bad metric name');
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    rest = rest.slice(1);
    for (;;) {
      rest = rest.trimStart();
      if (rest.startsWith('}')) break;
      const label = LABEL_NAME.exec(rest)?.[0];
      if (label === undefined) fail('bad label name');
      rest = rest.slice(label.length).trimStart();
      if (!rest.startsWith('="')) fail(`label ${label} has no quoted value`);
      const [value, after] = readQuoted(rest.slice(2), fail);
      if (label in labels) fail(`label ${label} twice`);
      labels[label] = value;
      rest = after.trimStart();
      if (rest.startsWith(',')) rest = rest.slice(1);
      else if (!rest.startsWith('}')) fail('labels must be separated by commas');
    }
    rest = rest.slice(1);
  }
  const fields = rest.trim().split(/\s+/);
  if (!/^\s/.test(rest) || fields.length < 1 || fields.length > 2) fail('expected a value and an optional timestamp');
  const [valueText = '', timestamp] = fields;
  if (!FLOAT.test(valueText)) fail('bad value');
  if (timestamp !== undefined && !/^-?\d+$/.test(timestamp)) fail('bad timestamp');
  return { name, labels, value: parseFloatGo(valueText) };
}

/** A label value after its opening quote: only \\, \" and \n may be escaped. */
function readQuoted(text: string, fail: (why: string) => never): [string, string] {
  let value = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') return [value, text.slice(i + 1)];
    if (c === '\n') fail('a raw newline in a label value');
    if (c !== '\\') {
      value += c;
      continue;
    }
    const next = text[++i];
    if (next === '\\' || next === '"') value += next;
    else if (next === 'n') value += '\n';
    else fail('bad escape in a label value');
  }
  return fail('unterminated label value');
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(\\|n)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'));
}

/** Which family a sample name belongs to: a declared histogram or summary owns its _bucket, _sum, _count. */
function familyName(sample: string, families: Map<string, PromFamily>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sample.endsWith(suffix)) continue;
    const base = families.get(sample.slice(0, -suffix.length));
    if (base !== undefined && (base.type === 'histogram' || (base.type === 'summary' && suffix !== '_bucket'))) return base.name;
  }
  return sample;
}

function belongs(sample: string, f: PromFamily): boolean {
  if (f.type === 'histogram') return [`${f.name}_bucket`, `${f.name}_sum`, `${f.name}_count`].includes(sample);
  if (f.type === 'summary') return [f.name, `${f.name}_sum`, `${f.name}_count`].includes(sample);
  return sample === f.name;
}

function checkHistogram(f: PromFamily): void {
  const groups = new Map<string, PromSample[]>();
  for (const s of f.samples) {
    const { le: _le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const [key, samples] of groups) {
    const fail: (why: string) => never = (why) => {
      throw new PromTextError(`histogram ${f.name} ${key}: ${why}`);
    };
    const buckets = samples.filter((s) => s.name === `${f.name}_bucket`);
    if (buckets.some((b) => b.labels['le'] === undefined || !FLOAT.test(b.labels['le']))) fail('a bucket without a numeric le');
    const les = buckets.map((b) => parseFloatGo(b.labels['le'] ?? ''));
    if (les.some((le, i) => i > 0 && !(le > les[i - 1]!))) fail('buckets not in increasing le order');
    if (buckets.some((b, i) => i > 0 && b.value < buckets[i - 1]!.value)) fail('bucket counts decrease');
    if (les.at(-1) !== Infinity) fail('no +Inf bucket');
    const count = samples.find((s) => s.name === `${f.name}_count`);
    if (count === undefined || samples.every((s) => s.name !== `${f.name}_sum`)) fail('no _sum or _count');
    if (count.value !== buckets.at(-1)!.value) fail('the +Inf bucket differs from _count');
  }
}

function parseFloatGo(text: string): number {
  const t = text.toLowerCase().replace(/^\+/, '');
  if (t === 'nan') return NaN;
  if (t === 'inf' || t === 'infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  return Number(text);
}

function matches(have: Record<string, string>, want: Record<string, string>): boolean {
  return Object.entries(want).every(([k, v]) => have[k] === v);
}

function sameSeries(a: Record<string, string>, b: Record<string, string>): boolean {
  const strip = ({ le: _le, ...rest }: Record<string, string>) => JSON.stringify(Object.entries(rest).sort());
  return strip(a) === strip(b);
}
