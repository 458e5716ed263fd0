// Audit (master key): the admin actions, newest first (GET /admin/audit) — who, what, when, on what,
// and the change itself (never a secret). Fifty at a time, "More" for the next page.
import { ApiError, api } from '../api.js';
import { append, errorBox, h, moreButton, replace, section, table } from '../dom.js';
import { dateTime } from '../format.js';

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

export async function render({ root, signal }) {
  append(root, h('h1', {}, 'Audit'));
  const box = h('div', {}, 'Loading…');
  const more = h('div', { class: 'more' });
  append(
    root,
    section(
      'Admin actions',
      null,
      h('p', { class: 'muted' }, 'Every change made through the admin API or the CLI, newest first.'),
      box,
      more,
    ),
  );
  const rows = [];
  const page = async (cursor) => {
    const res = (await api('/admin/audit', { query: { limit: 50, cursor }, signal })).data;
    rows.push(...res.data);
    replace(
      box,
      table(COLUMNS, rows, {
        name: 'audit',
        empty: 'No admin action yet.',
        rowAttrs: (e) => ({ 'data-entry': e.id, 'data-audit-action': e.action, 'data-target': e.target }),
      }),
    );
    moreButton(more, res, page);
  };
  try {
    await page();
  } catch (err) {
    replace(
      box,
      err instanceof ApiError && err.unavailable
        ? h('p', { class: 'muted' }, 'This gateway has no audit log (GET /admin/audit).')
        : errorBox(err),
    );
  }
}
