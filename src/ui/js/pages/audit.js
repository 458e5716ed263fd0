// Audit (master key): the admin actions, newest first (GET /admin/audit) — who, what, when, on what,
// and the change itself (never a secret). Fifty at a time, "More" for the next page.
import { h } from '../dom.js';
import { dateTime } from '../format.js';
import { pagedList } from '../paged-list.js';

/** The change, compact: long ones are cut (the API has it whole). */
function details(d) {
  if (!d) return h('span', { class: 'muted' }, '—');
  const text = JSON.stringify(d);
  return h(
    'code',
    { class: 'audit-details', title: text },
    text.length > 200 ? `${text.slice(0, 200)}…` : text,
  );
}

const COLUMNS = [
  { label: 'When', class: 'nowrap', value: (e) => dateTime(e.created_at) },
  { label: 'Who', value: (e) => e.actor },
  { label: 'What', value: (e) => e.action },
  { label: 'On what', value: (e) => e.target ?? '—' },
  { label: 'Change', value: (e) => details(e.details) },
];

export function render({ root, signal }) {
  return pagedList(root, signal, {
    title: 'Audit',
    heading: 'Admin actions',
    intro: 'Every change made through the admin API or the CLI, newest first.',
    path: '/admin/audit',
    columns: COLUMNS,
    name: 'audit',
    empty: 'No admin action yet.',
    rowAttrs: (e) => ({ 'data-entry': e.id, 'data-audit-action': e.action, 'data-target': e.target }),
    unavailable: 'This gateway has no audit log (GET /admin/audit).',
  });
}
