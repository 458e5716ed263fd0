// Overview: budget gauges, and spend by model, team and day from the ledger (GET /admin/spend, the same
// figures as the API and `quorum spend`). A team key sees its own budget, and its spend through
// GET /v1/usage where the gateway has it.
import { ApiError, api } from '../api.js';
import { barTable, columns, gauge, legend } from '../charts.js';
import { append, errorBox, h, replace, section } from '../dom.js';
import { daysAgo, int, usd } from '../format.js';
import { windowGauges } from './budget-windows.js';
import { groupName, stacks } from './usage.js';

const RANGES = [
  { value: '7', label: 'Last 7 days' },
  { value: '30', label: 'Last 30 days' },
  { value: '90', label: 'Last 90 days' },
  { value: 'all', label: 'All time' },
];

const METRICS = [
  { key: 'cost_usd', label: 'Cost', format: usd },
  { key: 'requests', label: 'Requests', format: int },
  { key: 'input_tokens', label: 'Input tokens', format: int },
  { key: 'output_tokens', label: 'Output tokens', format: int },
];

/** The filters as /admin/spend takes them: `from` a UTC date (inclusive), none for all time. */
export function spendFilters(range) {
  return range === 'all' ? {} : { from: daysAgo(Number(range) - 1) };
}

function rangeSelect(range) {
  const select = h(
    'select',
    {
      name: 'range',
      'aria-label': 'Range',
      onChange: () => {
        location.hash = `#/overview?range=${select.value}`;
      },
    },
    RANGES.map((r) => h('option', { value: r.value, selected: r.value === range }, r.label)),
  );
  return select;
}

async function budgets(root, me, signal) {
  const body = h('div', { class: 'gauges' }, 'Loading…');
  append(root, section('Budgets', null, body));
  try {
    if (me.role === 'master') {
      const [windows, overrides, keys] = await Promise.all([
        api('/admin/budgets', { signal }).then((r) => r.data.data),
        api('/admin/overrides', { signal }).then((r) => r.data.data),
        api('/admin/keys', { signal }).then((r) => r.data.data),
      ]);
      const keyNames = new Map(keys.map((k) => [k.id, k.name]));
      replace(
        body,
        windows.length === 0 ? h('p', { class: 'muted' }, 'No team has a budget.') : null,
        windowGauges(windows, { keyNames, overrides }),
      );
    } else {
      const b = (await api('/v1/budget', { signal })).data;
      if (b.scopes?.length) {
        // A team key: its own team's windows, its own key's and its team's tags'.
        const keyNames = new Map(me.key?.id ? [[me.key.id, me.key.name]] : []);
        const windows = b.scopes.map((w) => ({ ...w, team: b.team }));
        replace(body, windowGauges(windows, { keyNames }));
      } else replace(body, h('div', { class: 'gauge-card' }, h('h3', {}, b.team), gauge(b)));
    }
  } catch (err) {
    replace(body, errorBox(err));
  }
}

/** The days of the range, those without spend at zero, so the chart's time axis has no gaps. */
export function everyDay(rows, from) {
  const start = from ?? rows[0]?.group;
  if (!start) return rows;
  const byDay = new Map(rows.map((r) => [r.group, r]));
  const out = [];
  const today = new Date().toISOString().slice(0, 10);
  for (let d = new Date(`${start}T00:00:00Z`); ; d.setUTCDate(d.getUTCDate() + 1)) {
    const day = d.toISOString().slice(0, 10);
    out.push(byDay.get(day) ?? { group: day, cost_usd: 0, requests: 0, input_tokens: 0, output_tokens: 0 });
    if (day >= today || out.length > 400) break;
  }
  return out;
}

function totals(rows) {
  const sum = (k) => rows.reduce((a, r) => a + (r[k] ?? 0), 0);
  // Summed in nano-dollars, as the ledger keeps them, so the total is exact.
  const cost = rows.reduce((a, r) => a + Math.round((r.cost_usd ?? 0) * 1e9), 0) / 1e9;
  return {
    requests: sum('requests'),
    input_tokens: sum('input_tokens'),
    output_tokens: sum('output_tokens'),
    cost_usd: cost,
  };
}

function tiles(t) {
  const tile = (label, key, value) =>
    h(
      'div',
      { class: 'tile', 'data-total': key, 'data-value': t[key] },
      h('span', {}, label),
      h('strong', {}, value),
    );
  return h(
    'div',
    { class: 'tiles' },
    tile('Cost', 'cost_usd', usd(t.cost_usd)),
    tile('Requests', 'requests', int(t.requests)),
    tile('Input tokens', 'input_tokens', int(t.input_tokens)),
    tile('Output tokens', 'output_tokens', int(t.output_tokens)),
  );
}

async function spend(root, signal, range) {
  const body = h('div', {}, 'Loading…');
  append(root, section('Spend', rangeSelect(range), body));
  const filters = spendFilters(range);
  try {
    const get = (group_by) =>
      api('/admin/spend', { query: { ...filters, group_by }, signal }).then((r) => r.data.data);
    const [byModel, byTeam, byDay] = await Promise.all([get('model'), get('team'), get('day')]);
    const sorted = (rows) => [...rows].sort((a, b) => b.cost_usd - a.cost_usd);
    replace(
      body,
      h(
        'p',
        { class: 'muted' },
        filters.from ? `From ${filters.from} (UTC) to now, from the ledger.` : 'All time, from the ledger.',
      ),
      tiles(totals(byTeam)),
      h('h3', {}, 'By day'),
      h(
        'div',
        { class: 'chart-and-numbers' },
        columns(
          everyDay(byDay, filters.from).map((r) => ({ label: r.group, values: [r.cost_usd] })),
          { series: ['cost'], format: usd, name: 'spend-by-day' },
        ),
        barTable(byDay, { label: 'Day (UTC)', labelOf: (r) => r.group, columns: METRICS, name: 'day' }),
      ),
      h(
        'div',
        { class: 'two' },
        h(
          'div',
          {},
          h('h3', {}, 'By model'),
          barTable(sorted(byModel), {
            label: 'Model',
            labelOf: (r) => r.group,
            columns: METRICS,
            name: 'model',
          }),
        ),
        h(
          'div',
          {},
          h('h3', {}, 'By team'),
          barTable(sorted(byTeam), {
            label: 'Team',
            labelOf: (r) => r.group,
            columns: METRICS,
            name: 'team',
          }),
        ),
      ),
    );
  } catch (err) {
    replace(body, errorBox(err));
  }
}

/**
 * A team key's spend (open mode: every team's), by day and model, from GET /v1/usage, which scopes
 * itself to the key; /admin/spend is the master key's.
 */
async function ownSpend(root, me, signal, range) {
  const body = h('div', {}, 'Loading…');
  append(root, section('Spend', rangeSelect(range), body));
  const from = range === 'all' ? daysAgo(89) : daysAgo(Number(range) - 1);
  let usage;
  try {
    usage = (await api('/v1/usage', { query: { from, bucket: 'day', group_by: 'model' }, signal })).data;
  } catch (err) {
    const note =
      me.role === 'open'
        ? 'Spend by team and model comes from the admin API, which needs a master key: start the gateway with QUORUM_MASTER_KEY set and sign in with it.'
        : 'This gateway does not report usage to team keys (GET /v1/usage).';
    replace(
      body,
      err instanceof ApiError && err.unavailable
        ? h('p', { class: 'muted', 'data-unavailable': 'spend' }, note)
        : errorBox(err),
    );
    return;
  }
  const { names, buckets } = stacks(usage, 'cost_usd');
  const rows = usage.groups.map((g) => ({ ...g, name: groupName(g, usage.group_by) }));
  replace(
    body,
    h(
      'p',
      { class: 'muted' },
      `From ${from} (UTC) to now${range === 'all' ? ' (the last 90 days)' : ''}, from the ledger.`,
    ),
    tiles(usage.totals),
    h('h3', {}, 'By day'),
    h(
      'div',
      { class: 'chart-and-numbers' },
      columns(buckets, { series: names, format: usd, name: 'spend-by-day' }),
      legend(names),
    ),
    h('h3', {}, 'By model'),
    barTable(rows, { label: 'Model', labelOf: (r) => r.name, columns: METRICS, name: 'model' }),
  );
}

export async function render({ root, me, query, signal }) {
  const range = RANGES.some((r) => r.value === query.get('range')) ? query.get('range') : '30';
  append(root, h('h1', {}, 'Overview'));
  const pending = [budgets(root, me, signal)];
  pending.push(me.role === 'master' ? spend(root, signal, range) : ownSpend(root, me, signal, range));
  await Promise.all(pending);
}
