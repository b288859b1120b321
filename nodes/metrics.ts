/**
 * A minimal Prometheus text-format registry (exposition format 0.0.4). Counters and gauges
 * with labels; values are read at scrape time from closures so that hot paths only bump
 * plain numbers.
 */
type Labels = Record<string, string>;
interface Sample {
  labels: Labels;
  value: number;
}
interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  collect: () => Sample[];
}

export class Metrics {
  private readonly families: Family[] = [];

  constructor(private readonly constLabels: Labels = {}) {}

  counter(name: string, help: string, collect: () => number | Sample[]): void {
    this.add(name, help, 'counter', collect);
  }

  gauge(name: string, help: string, collect: () => number | Sample[]): void {
    this.add(name, help, 'gauge', collect);
  }

  render(): string {
    const lines: string[] = [];
    for (const f of this.families) {
      lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
      for (const s of f.collect()) {
        lines.push(`${f.name}${formatLabels({ ...this.constLabels, ...s.labels })} ${formatValue(s.value)}`);
      }
    }
    return lines.join('\n') + '\n';
  }

  private add(name: string, help: string, type: Family['type'], collect: () => number | Sample[]): void {
    this.families.push({
      name,
      help,
      type,
      collect: () => {
        const v = collect();
        return typeof v === 'number' ? [{ labels: {}, value: v }] : v;
      },
    });
  }
}

function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  return String(v);
}
