// Requests: the request log (GET /v1/requests, filtered and paged), a live tail (GET
// /v1/requests/stream, server-sent events with the same filters) and one request in full
// (GET /v1/requests/{id}): route decision with every candidate, attempts and fallbacks, a fan-out's
// panel side by side, and the text only while the operator has content logging on. A gateway without
// these routes says so instead.
import { ApiError, api, events } from '../api.js';
import { append, badge, errorBox, field, h, replace, section, table } from '../dom.js';
import { dateTime, int, ms, usd } from '../format.js';
import { loadPages } from '../paged-list.js';
import { panel } from './panel.js';
import { decisionView } from './playground.js';

const RANGES = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '31d': 31 * 86_400_000 };
const STATUSES = ['', '2xx', '4xx', '5xx', '4xx,5xx', '429'];
const SURFACES = [
  '',
  'chat.completions',
  'consensus',
  'reviews',
  'responses',
  'messages',
  'messages.count_tokens',
  'embeddings',
];
const FILTERS = ['range', 'q', 'status', 'surface', 'model', 'team'];

const statusBadge = (r) =>
  badge(String(r.status), r.status < 400 ? 'ok' : r.status === 499 ? 'muted' : 'bad');
const tokens = (r) => `${int(r.usage?.input_tokens ?? 0)} / ${int(r.usage?.output_tokens ?? 0)}`;

const COLUMNS = [
  {
    label: 'Time',
    class: 'nowrap',
    value: (r) => h('a', { href: `#/requests/${encodeURIComponent(r.id)}` }, dateTime(r.created_at)),
  },
  { label: 'Surface', value: (r) => r.surface },
  { label: 'Team', value: (r) => r.team ?? '—' },
  {
    label: 'Key',
    class: 'nowrap',
    value: (r) => r.key_name ?? (r.key_id ? r.key_id : h('span', { class: 'muted' }, 'master / open')),
  },
  { label: 'Asked', class: 'nowrap', value: (r) => r.model ?? '—' },
  { label: 'Answered', value: (r) => (r.models?.length ? r.models.join(', ') : '—') },
  { label: 'Tokens in / out', class: 'num', value: tokens },
  { label: 'Cost', class: 'num', value: (r) => usd(r.cost_usd) },
  { label: 'Latency', class: 'num', value: (r) => ms(r.latency_ms) },
  {
    label: 'Status',
    value: (r) => [
      statusBadge(r),
      r.error ? h('small', { class: 'muted' }, ` ${r.error.code ?? ''}`) : null,
      r.cache === 'hit' ? badge('cache', 'info') : null,
    ],
  },
];

function unavailable(what) {
  return h(
    'div',
    { class: 'unavailable', 'data-unavailable': 'requests' },
    h('h3', {}, 'Not available on this server'),
    h(
      'p',
      {},
      `This gateway does not serve ${what}. Each answer still carries its record: try a prompt in the Playground.`,
    ),
  );
}

const text = (v) => h('pre', { class: 'text' }, typeof v === 'string' ? v : JSON.stringify(v, null, 2));

async function detail(root, id, signal) {
  append(
    root,
    h('p', { class: 'crumbs' }, h('a', { href: '#/requests' }, 'Requests'), ' / ', h('code', {}, id)),
  );
  let r;
  try {
    r = (await api(`/v1/requests/${encodeURIComponent(id)}`, { signal })).data;
  } catch (err) {
    append(
      root,
      err instanceof ApiError && err.unavailable ? unavailable('GET /v1/requests/{id}') : errorBox(err),
    );
    return;
  }
  append(
    root,
    h('h1', {}, `${r.surface} `, h('small', {}, h('code', {}, r.id))),
    section(
      'Summary',
      null,
      table(COLUMNS.slice(1), [r], { name: 'request' }),
      h(
        'dl',
        { class: 'meta' },
        h('dt', {}, 'Arrived'),
        h('dd', {}, dateTime(r.created_at)),
        h('dt', {}, 'Path'),
        h('dd', {}, h('code', {}, r.path)),
        h('dt', {}, 'Streamed'),
        h('dd', {}, r.stream ? 'yes' : 'no'),
        h('dt', {}, 'Gateway overhead'),
        h('dd', {}, ms(r.overhead_ms)),
        r.tags && Object.keys(r.tags).length
          ? [
              h('dt', {}, 'Tags'),
              h(
                'dd',
                {},
                Object.entries(r.tags).map(([k, v]) => badge(`${k}: ${v}`, 'muted')),
              ),
            ]
          : null,
      ),
      r.error ? h('p', { class: 'error' }, `${r.error.code}: ${r.error.message}`) : null,
    ),
    r.route ? section('Route decision', null, decisionView(r.route)) : null,
    r.attempts?.length
      ? section(
          'Attempts and fallbacks',
          null,
          table(
            [
              { label: '#', value: (_a, i) => String(i + 1) },
              { label: 'Model', value: (a) => a.model },
              { label: 'Provider', value: (a) => a.provider ?? '—' },
              { label: 'Status', value: (a) => badge(String(a.status), a.status === 200 ? 'ok' : 'bad') },
              { label: 'Latency', class: 'num', value: (a) => ms(a.latency_ms) },
              { label: 'Error', value: (a) => a.error ?? '' },
            ],
            r.attempts,
            { name: 'attempts' },
          ),
        )
      : null,
    r.panel ? section('The panel', null, panel({ ...r.panel, cost_usd: r.cost_usd })) : null,
    r.review && !r.panel?.review
      ? section(
          'Review',
          null,
          h(
            'p',
            {},
            `Verdict ${r.review.verdict}, score ${r.review.score}, ${r.review.rounds} round(s), stopped by ${r.review.stopped_by}.`,
          ),
        )
      : null,
    r.content
      ? section(
          'Text (content logging is on)',
          null,
          h('h3', {}, 'Prompt'),
          text(r.content.prompt),
          h('h3', {}, 'Answer'),
          text(r.content.answer ?? ''),
          r.content.truncated ? h('p', { class: 'muted' }, 'Cut at the log’s limit.') : null,
        )
      : section(
          'Text',
          null,
          h(
            'p',
            { class: 'muted' },
            'Not logged: the operator has content logging off (logging.content), so no prompt or answer is kept.',
          ),
        ),
  );
}

export async function render({ root, me, id, query, signal }) {
  if (id) return detail(root, id, signal);
  append(root, h('h1', {}, 'Requests'));
  const current = Object.fromEntries(FILTERS.map((f) => [f, query.get(f) ?? '']));
  if (!RANGES[current.range]) current.range = '24h';
  const form = h(
    'form',
    {
      class: 'row wrap controls',
      'data-form': 'requests-filter',
      onSubmit: (e) => {
        e.preventDefault();
        const q = new URLSearchParams();
        for (const f of FILTERS) {
          const v = form.elements.namedItem(f)?.value.trim();
          if (v) q.set(f, v);
        }
        location.hash = `#/requests?${q}`;
      },
    },
    field(
      'Range',
      h(
        'select',
        { name: 'range' },
        Object.keys(RANGES).map((k) => h('option', { value: k, selected: k === current.range }, `last ${k}`)),
      ),
    ),
    field(
      'Search',
      h('input', { type: 'search', name: 'q', value: current.q, placeholder: 'id, model, error' }),
    ),
    field(
      'Status',
      h(
        'select',
        { name: 'status' },
        STATUSES.map((s) => h('option', { value: s, selected: s === current.status }, s || 'any')),
      ),
    ),
    field(
      'Surface',
      h(
        'select',
        { name: 'surface' },
        SURFACES.map((s) => h('option', { value: s, selected: s === current.surface }, s || 'any')),
      ),
    ),
    field('Model', h('input', { name: 'model', value: current.model, placeholder: 'asked or answered' })),
    me.role === 'team' ? null : field('Team', h('input', { name: 'team', value: current.team })),
    h('button', { type: 'submit' }, 'Filter'),
  );
  const filters = {
    q: current.q,
    status: current.status,
    surface: current.surface,
    model: current.model,
    team: current.team,
  };
  const rows = [];
  const box = h('div', {}, 'Loading…');
  const more = h('div', { class: 'form-actions' });
  const tail = h('input', { type: 'checkbox', name: 'tail' });
  const tailState = h('span', { class: 'muted', 'data-tail': '' });
  append(
    root,
    section(
      'Recent requests',
      h('label', { class: 'inline' }, tail, ' Live tail ', tailState),
      form,
      box,
      more,
    ),
  );
  const show = () =>
    replace(
      box,
      table(COLUMNS, rows, {
        name: 'requests',
        empty: 'No requests match.',
        rowAttrs: (r) => ({ 'data-request': r.id, class: r.fresh ? 'fresh' : '' }),
      }),
    );

  const from = new Date(Date.now() - RANGES[current.range]).toISOString();
  try {
    await loadPages({
      path: '/v1/requests',
      query: { ...filters, from, limit: 50 },
      signal,
      rows,
      render: show,
      more,
    });
  } catch (err) {
    replace(
      box,
      err instanceof ApiError && err.unavailable ? unavailable('GET /v1/requests') : errorBox(err),
    );
    tail.disabled = true;
    return;
  }

  let stop = null;
  tail.addEventListener('change', async () => {
    stop?.abort();
    if (!tail.checked) {
      tailState.textContent = '';
      return;
    }
    const own = new AbortController();
    stop = own;
    signal.addEventListener('abort', () => own.abort(), { once: true });
    tailState.textContent = 'connecting…';
    try {
      for await (const ev of events('/v1/requests/stream', { signal: own.signal, query: filters })) {
        if (ev.comment !== undefined) {
          tailState.textContent = 'following';
          continue;
        }
        if (ev.event !== 'request' || !ev.json?.id) continue;
        for (const r of rows) r.fresh = false;
        rows.unshift({ ...ev.json, fresh: true });
        if (rows.length > 500) rows.pop();
        show();
      }
      tailState.textContent = 'ended: untick and tick to follow again';
    } catch (err) {
      if (err.name === 'AbortError') return;
      tailState.textContent =
        err instanceof ApiError && err.unavailable ? 'not available on this server' : err.message;
    }
  });
}
