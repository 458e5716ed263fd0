// Spend over time: spend, requests and tokens per hour or day, by team, key, model or tag, from
// GET /v1/usage (a team key sees its own team). The figures beside the chart are the answer's own
// groups and totals (exact sums from the ledger). A gateway without that route says so instead.
import { ApiError, api } from '../api.js';
import { barTable, columns, legend } from '../charts.js';
import { append, errorBox, field, h, replace, section } from '../dom.js';
import { daysAgo, int, usd } from '../format.js';

const RANGES = {
  '24h': {
    label: 'Last 24 hours, by hour',
    bucket: 'hour',
    from: () => new Date(Date.now() - 23 * 3_600_000).toISOString().slice(0, 13) + ':00:00Z',
  },
  '7d': { label: 'Last 7 days, by day', bucket: 'day', from: () => daysAgo(6) },
  '30d': { label: 'Last 30 days, by day', bucket: 'day', from: () => daysAgo(29) },
  '90d': { label: 'Last 90 days, by day', bucket: 'day', from: () => daysAgo(89) },
};
const GROUPS = ['none', 'model', 'team', 'key', 'tag'];
const METRICS = {
  cost_usd: { label: 'Cost', format: usd },
  requests: { label: 'Requests', format: int },
  tokens: { label: 'Tokens (in + out)', format: int },
};
const FIGURES = [
  { key: 'cost_usd', label: 'Cost', format: usd },
  { key: 'requests', label: 'Requests', format: int },
  { key: 'calls', label: 'Upstream calls', format: int },
  { key: 'input_tokens', label: 'Input tokens', format: int },
  { key: 'output_tokens', label: 'Output tokens', format: int },
];

const metricOf = (r, m) => (m === 'tokens' ? (r.input_tokens ?? 0) + (r.output_tokens ?? 0) : (r[m] ?? 0));
/** A group's name as shown: the "other" sum of the groups past the limit, or none (no key, no tag). */
export const groupName = (g, groupBy) =>
  g.other ? 'other' : g.group === null ? (groupBy === 'none' ? 'all' : '(none)') : String(g.group);
const utc = (iso) => iso.slice(0, 16).replace('T', ' ');
const label = (start, bucket) =>
  bucket === 'hour' ? start.slice(5, 16).replace('T', ' ') : start.slice(0, 10);

/** The answer's series as stacked columns: one per bucket of the range, one series per group. */
export function stacks(usage, metric) {
  const names = usage.groups.map((g) => groupName(g, usage.group_by));
  const index = new Map(names.map((n, i) => [n, i]));
  const byBucket = new Map(usage.buckets.map((b) => [b, new Array(names.length).fill(0)]));
  for (const p of usage.series) {
    const values = byBucket.get(p.start);
    const i = index.get(groupName(p, usage.group_by));
    if (values && i !== undefined) values[i] += metricOf(p, metric);
  }
  return {
    names,
    buckets: [...byBucket].map(([start, values]) => ({ label: label(start, usage.bucket), values })),
  };
}

async function teamsFor(me, signal) {
  if (me.role !== 'master') return [];
  try {
    return (await api('/admin/teams', { signal })).data.data.map((t) => t.id);
  } catch {
    return [];
  }
}

export async function render({ root, me, query, signal }) {
  append(root, h('h1', {}, 'Spend over time'));
  const range = RANGES[query.get('range')] ? query.get('range') : '7d';
  const group = GROUPS.includes(query.get('group_by')) ? query.get('group_by') : 'model';
  const metric = METRICS[query.get('metric')] ? query.get('metric') : 'cost_usd';
  const tagName = query.get('tag_name') ?? '';
  const team = query.get('team') ?? '';
  const state = { range, group_by: group, metric, tag_name: tagName, team };
  const go = (patch) => {
    const q = new URLSearchParams(Object.entries({ ...state, ...patch }).filter(([, v]) => v !== ''));
    location.hash = `#/usage?${q}`;
  };
  const select = (name, options, value) =>
    h(
      'select',
      { name, onChange: (e) => go({ [name]: e.target.value }) },
      options.map(([v, l]) => h('option', { value: v, selected: v === value }, l)),
    );
  const teams = await teamsFor(me, signal);
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
        GROUPS.map((g) => [g, g === 'none' ? 'nothing' : g]),
        group,
      ),
    ),
    group === 'tag'
      ? field(
          'Tag name',
          h('input', {
            name: 'tag_name',
            value: tagName,
            placeholder: 'feature',
            onChange: (e) => go({ tag_name: e.target.value.trim() }),
          }),
        )
      : null,
    field(
      'Show',
      select(
        'metric',
        Object.entries(METRICS).map(([k, m]) => [k, m.label]),
        metric,
      ),
    ),
    teams.length
      ? field('Team', select('team', [['', 'every team'], ...teams.map((t) => [t, t])], team))
      : null,
  );
  const body = h('div', {}, 'Loading…');
  append(
    root,
    section(
      me.role === 'team' ? `Team ${me.team}` : team ? `Team ${team}` : 'Every team',
      null,
      controls,
      body,
    ),
  );
  if (group === 'tag' && !tagName) {
    replace(
      body,
      h('p', { class: 'muted' }, 'Name the tag to group by (the key of quorum.tags, e.g. feature).'),
    );
    return;
  }

  const r = RANGES[range];
  let usage;
  try {
    const groupBy = group === 'tag' ? `tag:${tagName}` : group;
    usage = (
      await api('/v1/usage', { query: { from: r.from(), bucket: r.bucket, group_by: groupBy, team }, signal })
    ).data;
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
            'This gateway does not serve GET /v1/usage. The Overview page shows spend by model, team and day from /admin/spend.',
          ),
        ),
      );
      return;
    }
    replace(body, errorBox(err));
    return;
  }
  const { names, buckets } = stacks(usage, metric);
  const m = METRICS[metric];
  const tile = (f) =>
    h(
      'div',
      { class: 'tile', 'data-total': f.key, 'data-value': usage.totals[f.key] },
      h('span', {}, f.label),
      h('strong', {}, f.format(usage.totals[f.key])),
    );
  const charted =
    metric === 'tokens'
      ? { key: 'tokens', label: m.label, format: int }
      : FIGURES.find((f) => f.key === metric);
  const rows = usage.groups.map((g) => ({
    ...g,
    tokens: metricOf(g, 'tokens'),
    name: groupName(g, usage.group_by),
  }));
  replace(
    body,
    h(
      'p',
      { class: 'muted' },
      `${utc(usage.from)} to ${utc(usage.to)} UTC, by ${usage.bucket}, from the ledger.`,
    ),
    h('div', { class: 'tiles' }, FIGURES.map(tile)),
    h(
      'div',
      { class: 'chart-and-numbers' },
      columns(buckets, { series: names, format: m.format, name: 'usage' }),
      legend(names),
    ),
    h('h3', {}, usage.group_by === 'none' ? 'Total' : `By ${usage.group_by}`),
    barTable(rows, {
      label: usage.group_by === 'none' ? '' : usage.group_by,
      labelOf: (g) => g.name,
      name: 'usage-groups',
      columns: [charted, ...FIGURES.filter((f) => f.key !== charted.key)],
    }),
  );
}
