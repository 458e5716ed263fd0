// Alerts (master key): the recorded budget alerts, newest first (GET /admin/alerts), each with the
// state of its delivery to every webhook. Fifty at a time, "More" for the next page.
import { badge, h } from '../dom.js';
import { dateTime, usd } from '../format.js';
import { pagedList } from '../paged-list.js';

const DELIVERY = { delivered: 'ok', pending: 'warn', failed: 'bad' };

/** An alert's scope as refusals and the Overview name it: `team`, `key <id>`, `user <id>`, `tag:<selector>`. */
export function alertScope(a) {
  if (a.scope === 'team') return 'team';
  if (a.scope === 'tag') return `tag:${a.scope_id}`;
  if (a.scope.startsWith('tag:')) return a.scope;
  return `${a.scope} ${a.scope_id}`;
}

function delivery(d) {
  const detail = [
    `${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`,
    d.last_http_status ? `HTTP ${d.last_http_status}` : null,
    d.last_error,
    d.status === 'pending' && d.next_attempt_at ? `next ${dateTime(d.next_attempt_at)}` : null,
  ].filter(Boolean);
  return h(
    'div',
    { class: 'delivery', 'data-webhook': d.webhook, 'data-status': d.status, title: detail.join(' · ') },
    `${d.webhook} `,
    badge(d.status, DELIVERY[d.status] ?? ''),
  );
}

const COLUMNS = [
  { label: 'Time', class: 'nowrap', value: (a) => dateTime(a.created_at) },
  { label: 'Team', value: (a) => a.team },
  { label: 'Scope', value: (a) => alertScope(a) },
  { label: 'Window', value: (a) => `${a.window} (${a.period})` },
  {
    label: 'Crossed',
    value: (a) =>
      a.type === 'budget.soft_limit'
        ? `soft limit ${usd(a.soft_limit_usd)}`
        : `${a.threshold_percent}% of the limit`,
  },
  {
    label: 'Spent / limit',
    class: 'num',
    value: (a) =>
      h(
        'span',
        { 'data-spent': a.spent_usd, 'data-limit': a.limit_usd },
        `${usd(a.spent_usd)} / ${usd(a.limit_usd)}`,
      ),
  },
  {
    label: 'Webhooks',
    value: (a) =>
      a.deliveries.length ? a.deliveries.map(delivery) : h('span', { class: 'muted' }, 'none configured'),
  },
];

export function render({ root, signal }) {
  return pagedList(root, signal, {
    title: 'Alerts',
    heading: 'Budget alerts',
    intro: 'Thresholds and soft limits crossed, newest first, and how each webhook took the alert.',
    path: '/admin/alerts',
    columns: COLUMNS,
    name: 'alerts',
    empty: 'No alert yet.',
    rowAttrs: (a) => ({ 'data-alert': a.id, 'data-type': a.type, 'data-team': a.team }),
    unavailable: 'This gateway does not record alerts (GET /admin/alerts).',
  });
}
