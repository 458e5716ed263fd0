// Charts as inline SVG built from data (no library, no canvas): bars beside their numbers, columns over
// time, stacked columns by group, and a budget gauge. Colours come from the stylesheet's classes.
import { h, s } from './dom.js';
import { dateTime, relative, usd } from './format.js';

const SERIES = 8;

/** The class of the n-th series' colour (the palette repeats after eight). */
export const seriesClass = (n) => `series-${n % SERIES}`;

/** A bar of `value` out of `max`, to sit in a table cell. */
export function bar(value, max, n = 0) {
  const width = max > 0 ? Math.max(0, Math.min(100, (value / max) * 100)) : 0;
  return s(
    'svg',
    { class: 'bar', viewBox: '0 0 100 10', preserveAspectRatio: 'none', 'aria-hidden': 'true' },
    s('rect', { class: 'bar-track', x: 0, y: 0, width: 100, height: 10, rx: 2 }),
    s('rect', { class: ['bar-fill', seriesClass(n)], x: 0, y: 0, width, height: 10, rx: 2 }),
  );
}

/**
 * Rows as a table whose first numeric column is also drawn as bars: the chart and its numbers are the
 * same cells. `columns`: [{key, label, format}]; the first one is charted.
 */
export function barTable(rows, { label, labelOf, columns, name, empty }) {
  const charted = columns[0];
  const max = Math.max(0, ...rows.map((r) => r[charted.key] ?? 0));
  return h(
    'table',
    { class: 'table bars', 'data-chart': name },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, label),
        h('th', { scope: 'col', class: 'chart-col' }, charted.label),
        columns.map((c) => h('th', { scope: 'col', class: 'num' }, c.label)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.length === 0
        ? h(
            'tr',
            {},
            h('td', { class: 'empty', colspan: columns.length + 2 }, empty ?? 'No data for this range.'),
          )
        : rows.map((r, i) =>
            h(
              'tr',
              { 'data-group': labelOf(r) },
              h('td', { class: 'group' }, labelOf(r)),
              h('td', { class: 'chart-col' }, bar(r[charted.key] ?? 0, max, i)),
              columns.map((c) =>
                h('td', { class: 'num', 'data-metric': c.key, 'data-value': r[c.key] }, c.format(r[c.key])),
              ),
            ),
          ),
    ),
  );
}

const W = 1000;
const H = 200;
const PAD = { left: 8, right: 8, top: 12, bottom: 22 };

/**
 * Columns over time, stacked by series: `buckets` [{label, values: number[]}], one value per series.
 * Each column has a tooltip with its exact figures.
 */
export function columns(buckets, { series = ['value'], format = String, name } = {}) {
  const totals = buckets.map((b) => b.values.reduce((a, v) => a + (v ?? 0), 0));
  const max = Math.max(0, ...totals);
  const inner = W - PAD.left - PAD.right;
  const step = buckets.length ? inner / buckets.length : inner;
  const width = Math.max(1, Math.min(48, step * 0.7));
  const y = (v) => (max > 0 ? ((H - PAD.top - PAD.bottom) * v) / max : 0);
  const every = Math.max(1, Math.ceil(buckets.length / 8));
  const svg = s(
    'svg',
    {
      class: 'columns',
      viewBox: `0 0 ${W} ${H}`,
      role: 'img',
      'aria-label': `${name ?? 'chart'}`,
      'data-chart': name,
    },
    s('line', { class: 'axis', x1: PAD.left, x2: W - PAD.right, y1: H - PAD.bottom, y2: H - PAD.bottom }),
    max > 0 ? s('text', { class: 'axis-label', x: PAD.left, y: PAD.top - 2 }, `max ${format(max)}`) : null,
    buckets.map((b, i) => {
      const x = PAD.left + i * step + (step - width) / 2;
      let top = H - PAD.bottom;
      const parts = b.values.map((v, n) => {
        const height = y(v ?? 0);
        top -= height;
        return height > 0 ? s('rect', { class: ['col', seriesClass(n)], x, y: top, width, height }) : null;
      });
      const tip = [b.label, ...series.map((name, n) => `${name}: ${format(b.values[n] ?? 0)}`)];
      return s(
        'g',
        { class: 'column', 'data-bucket': b.label, 'data-total': totals[i] },
        s('title', {}, tip.join('\n')),
        s('rect', {
          class: 'col-hit',
          x: PAD.left + i * step,
          y: PAD.top,
          width: step,
          height: H - PAD.top - PAD.bottom,
        }),
        parts,
        i % every === 0
          ? s('text', { class: 'tick', x: x + width / 2, y: H - 6, 'text-anchor': 'middle' }, b.label)
          : null,
      );
    }),
  );
  return svg;
}

/** A legend for the series of a stacked chart. */
export function legend(series) {
  return h(
    'ul',
    { class: 'legend' },
    series.map((name, n) =>
      h(
        'li',
        {},
        s(
          'svg',
          { viewBox: '0 0 10 10', class: 'swatch' },
          s('rect', { class: seriesClass(n), width: 10, height: 10, rx: 2 }),
        ),
        name,
      ),
    ),
  );
}

/**
 * A team's budget: spent and reserved against the limit, the soft limit marked, and every figure in
 * words below. `b` has the fields of GET /v1/budget.
 */
export function gauge(b) {
  const figures = h('dl', { class: 'figures' });
  const add = (term, value, key) =>
    figures.append(h('dt', {}, term), h('dd', { 'data-budget': key, 'data-value': value ?? '' }, usd(value)));
  if (b.limit_usd === null || b.limit_usd === undefined) {
    add('Spent this period', b.spent_usd, 'spent');
    return h(
      'div',
      { class: 'gauge', 'data-team': b.team },
      h('p', { class: 'muted' }, 'No budget: unlimited.'),
      figures,
    );
  }
  const limit = b.limit_usd;
  const scale = (v) => (limit > 0 ? Math.min(100, (v / limit) * 100) : v > 0 ? 100 : 0);
  const spentW = scale(b.spent_usd);
  const reservedW = Math.min(100 - spentW, scale(b.reserved_usd));
  const soft = b.soft_limit_usd ?? null;
  const over = b.remaining_usd !== null && b.remaining_usd <= 0;
  const svg = s(
    'svg',
    {
      class: 'gauge-bar',
      viewBox: '0 0 100 12',
      preserveAspectRatio: 'none',
      role: 'img',
      'aria-label': 'budget used',
    },
    s('rect', { class: 'bar-track', x: 0, y: 0, width: 100, height: 12, rx: 2 }),
    s('rect', {
      class: ['gauge-spent', over ? 'over' : b.soft_limit_reached ? 'soft' : ''],
      x: 0,
      y: 0,
      width: spentW,
      height: 12,
    }),
    s('rect', { class: 'gauge-reserved', x: spentW, y: 0, width: reservedW, height: 12 }),
    soft !== null
      ? s('rect', { class: 'gauge-soft', x: Math.max(0, scale(soft) - 0.4), y: 0, width: 0.8, height: 12 })
      : null,
  );
  add('Spent', b.spent_usd, 'spent');
  add('Reserved (in flight)', b.reserved_usd, 'reserved');
  add('Remaining', b.remaining_usd, 'remaining');
  add(`Limit (${b.period})`, limit, 'limit');
  if (soft !== null) add('Soft limit', soft, 'soft');
  return h(
    'div',
    { class: 'gauge', 'data-team': b.team },
    svg,
    h(
      'p',
      { class: 'gauge-note' },
      `${Math.round((b.spent_usd / (limit || 1)) * 1000) / 10}% used`,
      b.resets_at ? ` · resets ${dateTime(b.resets_at)} (${relative(b.resets_at)})` : ' · never resets',
      b.soft_limit_reached ? h('span', { class: 'badge badge-warn' }, 'soft limit reached') : null,
      over ? h('span', { class: 'badge badge-bad' }, 'exhausted') : null,
    ),
    figures,
  );
}
