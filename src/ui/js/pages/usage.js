// Spend over time: spend, requests and tokens per hour or day, by team, key, model or tag, from
// GET /v1/usage (a team key sees its own team). A gateway without that route says so instead.
import { ApiError, api } from '../api.js';
import { barTable, columns, legend } from '../charts.js';
import { append, errorBox, field, h, replace, section } from '../dom.js';
import { daysAgo, int, usd } from '../format.js';

const RANGES = {
  '24h': {
    label: 'Last 24 hours, by hour',
    bucket: 'hour',
    from: () => new Date(Date.now() - 86_400_000).toISOString(),
  },
  '7d': { label: 'Last 7 days, by day', bucket: 'day', from: () => daysAgo(6) },
  '30d': { label: 'Last 30 days, by day', bucket: 'day', from: () => daysAgo(29) },
  '90d': { label: 'Last 90 days, by day', bucket: 'day', from: () => daysAgo(89) },
};
const GROUPS = ['model', 'team', 'key', 'tag'];
const METRICS = {
  cost_usd: { label: 'Cost', format: usd },
  requests: { label: 'Requests', format: int },
  tokens: { label: 'Tokens', format: int },
};
/** Series drawn one by one; the rest are summed as "other". */
const TOP = 7;

const timeOf = (r) => r.start ?? r.bucket ?? r.time ?? r.period ?? r.date ?? r.day ?? '';
const groupOf = (r) => (r.group === null || r.group === undefined ? '(none)' : String(r.group));
const metricOf = (r, m) => (m === 'tokens' ? (r.input_tokens ?? 0) + (r.output_tokens ?? 0) : (r[m] ?? 0));

/** Rows {time, group, metrics} → columns per bucket, stacked by the top groups. */
export function series(rows, metric) {
  const byGroup = new Map();
  for (const r of rows) byGroup.set(groupOf(r), (byGroup.get(groupOf(r)) ?? 0) + metricOf(r, metric));
  const ranked = [...byGroup.entries()].sort((a, b) => b[1] - a[1]).map(([g]) => g);
  const shown = ranked.slice(0, TOP);
  const names = ranked.length > TOP ? [...shown, 'other'] : shown;
  const buckets = new Map();
  for (const r of rows) {
    const t = String(timeOf(r));
    if (!buckets.has(t)) buckets.set(t, new Array(names.length).fill(0));
    const i = shown.indexOf(groupOf(r));
    buckets.get(t)[i >= 0 ? i : names.length - 1] += metricOf(r, metric);
  }
  const label = (t) => (t.length > 10 ? t.slice(5, 16).replace('T', ' ') : t);
  return {
    names,
    buckets: [...buckets.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([t, values]) => ({ label: label(t), values })),
  };
}

function totalsByGroup(rows) {
  const out = new Map();
  for (const r of rows) {
    const g = groupOf(r);
    const t = out.get(g) ?? { group: g, requests: 0, input_tokens: 0, output_tokens: 0, cost_nanos: 0 };
    t.requests += r.requests ?? 0;
    t.input_tokens += r.input_tokens ?? 0;
    t.output_tokens += r.output_tokens ?? 0;
    t.cost_nanos += Math.round((r.cost_usd ?? 0) * 1e9);
    out.set(g, t);
  }
  return [...out.values()]
    .map((t) => ({ ...t, cost_usd: t.cost_nanos / 1e9 }))
    .sort((a, b) => b.cost_usd - a.cost_usd);
}

export async function render({ root, me, query, signal }) {
  append(root, h('h1', {}, 'Spend over time'));
  const range = RANGES[query.get('range')] ? query.get('range') : '7d';
  const group = GROUPS.includes(query.get('group_by')) ? query.get('group_by') : 'model';
  const metric = METRICS[query.get('metric')] ? query.get('metric') : 'cost_usd';
  const go = (patch) => {
    const q = new URLSearchParams({ range, group_by: group, metric, ...patch });
    location.hash = `#/usage?${q}`;
  };
  const select = (name, options, value) =>
    h(
      'select',
      { name, onChange: (e) => go({ [name]: e.target.value }) },
      options.map(([v, l]) => h('option', { value: v, selected: v === value }, l)),
    );
  const controls = h(
    'div',
    { class: 'row wrap controls' },
    field(
      'Range',
      select(
        'range',
        Object.entries(RANGES).map(([k, r]) => [k, r.label]),
        range,
      ),
    ),
    field(
      'Group by',
      select(
        'group_by',
        GROUPS.map((g) => [g, g]),
        group,
      ),
    ),
    field(
      'Show',
      select(
        'metric',
        Object.entries(METRICS).map(([k, m]) => [k, m.label]),
        metric,
      ),
    ),
  );
  const body = h('div', {}, 'Loading…');
  append(root, section(me.role === 'team' ? `Team ${me.team}` : 'Every team', null, controls, body));

  const r = RANGES[range];
  let data;
  try {
    data = (await api('/v1/usage', { query: { from: r.from(), bucket: r.bucket, group_by: group }, signal }))
      .data;
  } catch (err) {
    if (err instanceof ApiError && err.unavailable) {
      replace(
        body,
        h(
          'div',
          { class: 'unavailable', 'data-unavailable': 'usage' },
          h('h3', {}, 'Not available on this server'),
          h(
            'p',
            {},
            'This gateway does not serve GET /v1/usage yet. The Overview page shows spend by model, team and day from /admin/spend.',
          ),
        ),
      );
      return;
    }
    replace(body, errorBox(err));
    return;
  }
  const rows = Array.isArray(data) ? data : (data.data ?? []);
  const { names, buckets } = series(rows, metric);
  const m = METRICS[metric];
  replace(
    body,
    h(
      'div',
      { class: 'chart-and-numbers' },
      columns(buckets, { series: names, format: m.format, name: 'usage' }),
      legend(names),
    ),
    h('h3', {}, `Totals by ${group}`),
    barTable(totalsByGroup(rows), {
      label: group,
      labelOf: (t) => t.group,
      name: 'usage-totals',
      columns: [
        { key: metric === 'tokens' ? 'input_tokens' : metric, label: m.label, format: m.format },
        ...['cost_usd', 'requests', 'input_tokens', 'output_tokens']
          .filter((k) => k !== metric)
          .map((k) => ({
            key: k,
            label: METRICS[k]?.label ?? k.replace('_', ' '),
            format: k === 'cost_usd' ? usd : int,
          })),
      ],
    }),
    data.has_more
      ? h('p', { class: 'muted' }, 'The range holds more groups than one page; narrow it to see them all.')
      : null,
  );
}
