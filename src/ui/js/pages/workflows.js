// Workflows: the definitions the key may see (GET /v1/workflows), a form to store a new one (YAML, as
// POST /v1/workflows takes it), and the runs, filtered by status and paged (GET /v1/runs).
import { api } from '../api.js';
import { append, badge, errorBox, h, replace, section, table } from '../dom.js';
import { dateTime, usd } from '../format.js';
import { loadPages } from '../paged-list.js';
import { STARTER } from './starter.js';

const STATUSES = [
  { value: '', label: 'Every status' },
  { value: 'waiting', label: 'Waiting for approval' },
  { value: 'running', label: 'Running' },
  { value: 'pending', label: 'Pending' },
  { value: 'succeeded', label: 'Succeeded' },
  { value: 'failed', label: 'Failed' },
  { value: 'cancelled', label: 'Cancelled' },
];

const TONE = {
  succeeded: 'ok',
  failed: 'bad',
  cancelled: 'muted',
  waiting: 'warn',
  running: 'info',
  pending: 'muted',
};

export const statusBadge = (status) => badge(status, TONE[status] ?? '');

function definitions(list, me) {
  return table(
    [
      {
        label: 'Workflow',
        value: (w) => h('a', { href: `#/workflows/${encodeURIComponent(w.id)}` }, w.name),
      },
      { label: 'Version', class: 'num', value: (w) => `v${w.version}` },
      me.role === 'team' ? null : { label: 'Team', value: (w) => w.team },
      { label: 'Stored', value: (w) => dateTime(w.created_at) },
    ].filter(Boolean),
    list,
    {
      name: 'workflows',
      empty: 'No workflow stored yet: store the example below.',
      rowAttrs: (w) => ({ 'data-workflow': w.name }),
    },
  );
}

export function runsTable(runs) {
  return table(
    [
      {
        label: 'Run',
        value: (r) => h('a', { href: `#/runs/${encodeURIComponent(r.id)}` }, h('code', {}, r.id)),
      },
      {
        label: 'Workflow',
        value: (r) => (r.workflow ? `${r.workflow.name} v${r.workflow.version}` : r.workflow_id),
      },
      { label: 'Status', value: (r) => statusBadge(r.status) },
      { label: 'Cost', class: 'num', value: (r) => usd(r.cost_usd) },
      { label: 'Started', value: (r) => dateTime(r.created_at) },
      { label: 'Updated', value: (r) => dateTime(r.updated_at) },
    ],
    runs,
    {
      name: 'runs',
      empty: 'No runs match.',
      rowAttrs: (r) => ({ 'data-run': r.id, 'data-status': r.status }),
    },
  );
}

function newWorkflow(onStored) {
  const status = h('div', { role: 'status' });
  const text = h('textarea', { name: 'definition', rows: 16, spellcheck: 'false', class: 'code' }, STARTER);
  return h(
    'form',
    {
      class: 'form',
      'data-form': 'new-workflow',
      onSubmit: async (e) => {
        e.preventDefault();
        replace(status);
        try {
          const stored = (
            await api('/v1/workflows', {
              method: 'POST',
              body: text.value,
              headers: { 'content-type': 'application/yaml' },
            })
          ).data;
          onStored(stored);
        } catch (err) {
          replace(status, h('pre', { class: 'error' }, err.message));
        }
      },
    },
    h(
      'p',
      { class: 'muted' },
      'YAML or JSON, as docs/workflows.md describes. Storing a name again makes a new version.',
    ),
    text,
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, 'Store workflow')),
    status,
  );
}

export async function render({ root, me, query, signal }) {
  append(root, h('h1', {}, 'Workflows'));
  const defsBox = h('div', {}, 'Loading…');
  append(
    root,
    section(
      'Definitions',
      null,
      defsBox,
      h(
        'details',
        { class: 'add' },
        h('summary', {}, 'New workflow'),
        newWorkflow((w) => {
          location.hash = `#/workflows/${encodeURIComponent(w.id)}`;
        }),
      ),
    ),
  );
  try {
    const list = (await api('/v1/workflows', { signal })).data.data;
    replace(defsBox, definitions(list, me));
  } catch (err) {
    replace(defsBox, errorBox(err));
  }

  const status = query.get('status') ?? '';
  const filter = h(
    'select',
    {
      name: 'status',
      'aria-label': 'Status',
      onChange: () => {
        location.hash = filter.value ? `#/workflows?status=${filter.value}` : '#/workflows';
      },
    },
    STATUSES.map((s) => h('option', { value: s.value, selected: s.value === status }, s.label)),
  );
  const runsBox = h('div', {}, 'Loading…');
  const more = h('div', { class: 'form-actions' });
  append(root, section('Runs', filter, runsBox, more));
  const runs = [];
  try {
    await loadPages({
      path: '/v1/runs',
      query: { limit: 25, ...(status && { status }) },
      signal,
      rows: runs,
      render: () => replace(runsBox, runsTable(runs)),
      more,
    });
  } catch (err) {
    replace(runsBox, errorBox(err));
  }
}
