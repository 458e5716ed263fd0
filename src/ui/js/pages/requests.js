// Requests: the recent-request log (GET /v1/requests, paged), a live tail (GET /v1/requests/stream,
// server-sent events) and one request in full (GET /v1/requests/{id}): route decision, attempts, and a
// fan-out's panel. A gateway without these routes says so instead.
import { ApiError, api, events } from '../api.js';
import { append, badge, errorBox, h, replace, section, table } from '../dom.js';
import { dateTime, int, ms, usd } from '../format.js';
import { panel } from './panel.js';
import { decisionView } from './playground.js';

/** The log's fields, read leniently (the first name present wins). */
const pick = (r, ...names) => names.map((n) => r[n]).find((v) => v !== undefined && v !== null);
const at = (r) => pick(r, 'created_at', 'at', 'time', 'started_at');
const asked = (r) => pick(r, 'model_requested', 'requested_model', 'model_asked', 'model');
const answered = (r) => pick(r, 'model_answered', 'answered_model', 'answered_by', 'served_model');
const tokens = (r) => {
  const input = pick(r, 'input_tokens', 'prompt_tokens') ?? r.usage?.prompt_tokens;
  const output = pick(r, 'output_tokens', 'completion_tokens') ?? r.usage?.completion_tokens;
  return input === undefined && output === undefined ? '—' : `${int(input ?? 0)} / ${int(output ?? 0)}`;
};
const statusOf = (r) => {
  const s = pick(r, 'status', 'http_status');
  return badge(String(s ?? '—'), typeof s === 'number' ? (s < 400 ? 'ok' : 'bad') : s === 'ok' ? 'ok' : '');
};

const COLUMNS = [
  {
    label: 'Time',
    value: (r) => h('a', { href: `#/requests/${encodeURIComponent(r.id)}` }, dateTime(at(r))),
  },
  { label: 'Team', value: (r) => r.team ?? '—' },
  { label: 'Key', value: (r) => pick(r, 'key_name', 'key') ?? '—' },
  { label: 'Asked', value: (r) => asked(r) ?? '—' },
  { label: 'Answered', value: (r) => answered(r) ?? '—' },
  { label: 'Tokens in / out', class: 'num', value: tokens },
  { label: 'Cost', class: 'num', value: (r) => usd(r.cost_usd) },
  { label: 'Latency', class: 'num', value: (r) => ms(pick(r, 'latency_ms', 'duration_ms')) },
  { label: 'Status', value: statusOf },
];

function unavailable(what) {
  return h(
    'div',
    { class: 'unavailable', 'data-unavailable': 'requests' },
    h('h3', {}, 'Not available on this server'),
    h(
      'p',
      {},
      `This gateway does not serve ${what} yet. Each answer still carries its record: try a prompt in the Playground.`,
    ),
  );
}

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
  const q = r.quorum ?? r.record ?? {};
  const route = r.route ?? q.route;
  const attempts = r.attempts ?? q.attempts ?? [];
  const candidates = r.candidates ?? q.candidates;
  append(
    root,
    h('h1', {}, 'Request ', h('small', {}, h('code', {}, r.id))),
    section('Summary', null, table(COLUMNS.slice(1), [r], { name: 'request' })),
    route ? section('Route decision', null, decisionView(route)) : null,
    attempts.length
      ? section(
          'Attempts and fallbacks',
          null,
          table(
            [
              { label: '#', value: (_a, i) => String(i) },
              { label: 'Model', value: (a) => a.model },
              { label: 'Provider', value: (a) => a.provider ?? '—' },
              { label: 'Status', value: (a) => badge(String(a.status), a.status === 200 ? 'ok' : 'bad') },
              { label: 'Error', value: (a) => a.error ?? '' },
            ],
            attempts,
          ),
        )
      : null,
    candidates ? section('The panel', null, panel({ ...q, ...r, candidates })) : null,
    r.prompt !== undefined || r.answer !== undefined
      ? section(
          'Content (content logging is on)',
          null,
          h('h3', {}, 'Prompt'),
          h(
            'pre',
            { class: 'text' },
            typeof r.prompt === 'string' ? r.prompt : JSON.stringify(r.prompt, null, 2),
          ),
          h('h3', {}, 'Answer'),
          h(
            'pre',
            { class: 'text' },
            typeof r.answer === 'string' ? r.answer : JSON.stringify(r.answer, null, 2),
          ),
        )
      : null,
    h('details', {}, h('summary', {}, 'Raw record'), h('pre', { class: 'text' }, JSON.stringify(r, null, 2))),
  );
}

export async function render({ root, id, query, signal }) {
  if (id) return detail(root, id, signal);
  append(root, h('h1', {}, 'Requests'));
  const rows = [];
  const box = h('div', {}, 'Loading…');
  const more = h('div', { class: 'form-actions' });
  const search = h('input', {
    type: 'search',
    name: 'q',
    placeholder: 'model, team or key',
    value: query.get('q') ?? '',
  });
  const tail = h('input', { type: 'checkbox', name: 'tail' });
  const tailState = h('span', { class: 'muted' });
  const controls = h(
    'form',
    {
      class: 'row wrap controls',
      onSubmit: (e) => {
        e.preventDefault();
        location.hash = search.value ? `#/requests?q=${encodeURIComponent(search.value)}` : '#/requests';
      },
    },
    search,
    h('button', { type: 'submit' }, 'Search'),
    h('label', { class: 'inline' }, tail, ' Live tail '),
    tailState,
  );
  append(root, section('Recent requests', controls, box, more));
  const show = () =>
    replace(
      box,
      table(COLUMNS, rows, {
        name: 'requests',
        empty: 'No requests in this range.',
        rowAttrs: (r) => ({ 'data-request': r.id }),
      }),
    );

  const page = async (cursor) => {
    const res = (await api('/v1/requests', { query: { limit: 50, cursor, q: query.get('q') }, signal })).data;
    rows.push(...(res.data ?? []));
    show();
    replace(
      more,
      res.has_more ? h('button', { type: 'button', onClick: () => page(res.next_cursor) }, 'More') : null,
    );
  };
  try {
    await page();
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
    stop = new AbortController();
    signal.addEventListener('abort', () => stop?.abort(), { once: true });
    tailState.textContent = 'following…';
    try {
      for await (const ev of events('/v1/requests/stream', { signal: stop.signal })) {
        if (!ev.json?.id) continue;
        rows.unshift(ev.json);
        if (rows.length > 500) rows.pop();
        show();
      }
      tailState.textContent = 'stream ended';
    } catch (err) {
      if (err.name === 'AbortError') return;
      tailState.textContent =
        err instanceof ApiError && err.unavailable ? 'live tail not available on this server' : err.message;
    }
  });
}
