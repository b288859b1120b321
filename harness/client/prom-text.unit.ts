import t from 'tap';
import { histogramOf, parsePromText, PromTextError, sampleValue } from './prom-text.js';

const valid = `# HELP up_total Things.
# TYPE up_total counter
up_total{replica="n1",peer="a \\"b\\" \\\\ c\\nd"} 3
up_total{replica="n1",peer="e"} 0 1700000000000

# TYPE lag gauge
lag -1.5e-3
# a plain comment
# TYPE d_seconds histogram
d_seconds_bucket{le="0.1",x="1"} 1
d_seconds_bucket{x="1",le="1"} 2
d_seconds_bucket{le="+Inf",x="1"} 3
d_seconds_sum{x="1"} 4.5
d_seconds_count{x="1"} 3
plain NaN
`;

t.test('a valid exposition: families, escapes, values and histograms', async (t) => {
  const f = parsePromText(valid);
  t.same([...f.keys()], ['up_total', 'lag', 'd_seconds', 'plain']);
  t.equal(f.get('up_total')?.help, 'Things.');
  t.equal(sampleValue(f, 'up_total', { peer: 'a "b" \\ c\nd' }), 3, 'label escapes undone');
  t.equal(sampleValue(f, 'lag'), -0.0015);
  t.equal(f.get('plain')?.type, 'untyped');
  t.ok(Number.isNaN(sampleValue(f, 'plain')));
  t.same(histogramOf(f, 'd_seconds', { x: '1' }), { buckets: [{ le: 0.1, count: 1 }, { le: 1, count: 2 }, { le: Infinity, count: 3 }], sum: 4.5, count: 3 });
  t.equal(histogramOf(f, 'lag'), undefined, 'a gauge is no histogram');
  t.equal(sampleValue(f, 'missing'), undefined);
});

const broken: Array<[string, string, RegExp]> = [
  ['a bad name', '9x 1\n', /bad metric name/],
  ['a bad value', 'x one\n', /bad value/],
  ['no value', 'x{a="1"}\n', /bad value|expected a value/],
  ['a bad timestamp', 'x 1 soon\n', /bad timestamp/],
  ['an unquoted label', 'x{a=1} 1\n', /no quoted value/],
  ['a bad escape', 'x{a="\\t"} 1\n', /bad escape/],
  ['an unterminated label', 'x{a="1} 1\n', /unterminated/],
  ['a label twice', 'x{a="1",a="2"} 1\n', /label a twice/],
  ['labels without commas', 'x{a="1" b="2"} 1\n', /commas/],
  ['an unknown type', '# TYPE x countr\n', /unknown type/],
  ['TYPE after samples', 'x 1\n# TYPE x counter\n', /TYPE given twice or after samples/],
  ['TYPE twice', '# TYPE x gauge\n# TYPE x gauge\n', /TYPE given twice/],
  ['HELP twice', '# HELP x a\n# HELP x b\n', /HELP given twice/],
  ['a family in two groups', 'x 1\ny 1\nx{a="1"} 2\n', /not one group/],
  ['a series twice', 'x{a="1",b="2"} 1\nx{b="2",a="1"} 2\n', /the same series twice/],
  ['a negative counter', '# TYPE c counter\nc -1\n', /non-negative/],
  ['a bucket without le', '# TYPE h histogram\nh_bucket 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', /without a numeric le/],
  ['no +Inf bucket', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', /no \+Inf bucket/],
  ['decreasing buckets', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', /decrease/],
  ['buckets out of order', '# TYPE h histogram\nh_bucket{le="2"} 1\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', /increasing le/],
  ['+Inf differs from count', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n', /differs from _count/],
  ['no sum', '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_count 1\n', /no _sum/],
];

t.test('what Prometheus would refuse or misread is refused', async (t) => {
  for (const [what, text, why] of broken) {
    let error: unknown = null;
    try {
      parsePromText(text);
    } catch (err) {
      error = err;
    }
    t.ok(error instanceof PromTextError, `${what}: refused`);
    t.match((error as Error | null)?.message, why, `${what}: ${(error as Error | null)?.message}`);
  }
});
