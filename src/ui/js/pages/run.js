// One run as a live DAG: nodes coloured by step state, kept current by the run's event stream
// (GET /v1/runs/{id}/events, resumed with Last-Event-ID after a drop). Click a step for its prompt,
// output, attempts, iterations, cost and history; approve or reject a gate (with what it waits on),
// correct a step's output, re-run from a step, cancel the run — each through the runs API.
import { api, events } from '../api.js';
import { drawDag } from '../dag.js';
import { append, errorBox, field, h, replace, section } from '../dom.js';
import { dateTime, int, usd } from '../format.js';
import { stepSettings } from './workflow.js';
import { statusBadge } from './workflows.js';

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);
const STATES = ['pending', 'running', 'waiting', 'succeeded', 'failed', 'skipped', 'cancelled'];

/** The step state an event implies, applied at once; the run is then re-read for every detail. */
const EVENT_STATE = {
  'step.started': 'running',
  'step.waiting': 'waiting',
  'step.succeeded': 'succeeded',
  'step.failed': 'failed',
};

const show = (value) =>
  value === null || value === undefined
    ? h('span', { class: 'muted' }, 'none')
    : h('pre', { class: 'text' }, typeof value === 'string' ? value : JSON.stringify(value, null, 2));

async function act(box, fn) {
  try {
    await fn();
  } catch (err) {
    box.prepend(errorBox(err));
  }
}

function approvalPanel(run, name, def, onDone) {
  const comment = h('input', { name: 'comment', placeholder: 'optional comment / reason' });
  const box = h('div', { class: 'approval', 'data-approval': name });
  const decide = (approved) =>
    act(box, async () => {
      const body = { approved, ...(comment.value.trim() && { comment: comment.value.trim() }) };
      await api(`/v1/runs/${encodeURIComponent(run.id)}/steps/${encodeURIComponent(name)}/approve`, {
        method: 'POST',
        body,
      });
      onDone();
    });
  const step = def.steps[name];
  append(
    box,
    h('h3', {}, 'Waiting for your approval'),
    step.description ? h('p', { class: 'ask' }, step.description) : null,
    (step.needs ?? []).length ? h('p', { class: 'muted' }, 'What is being approved — the output of:') : null,
    (step.needs ?? []).map((n) =>
      h('div', { class: 'approved-output' }, h('h4', {}, n), show(run.steps[n]?.output)),
    ),
    h(
      'div',
      { class: 'row' },
      comment,
      h(
        'button',
        { type: 'button', class: 'primary', 'data-action': 'approve', onClick: () => decide(true) },
        'Approve',
      ),
      h(
        'button',
        { type: 'button', class: 'danger', 'data-action': 'reject', onClick: () => decide(false) },
        'Reject',
      ),
    ),
  );
  return box;
}

function correctForm(run, name, onDone) {
  const current = run.steps[name]?.output;
  const output = h(
    'textarea',
    { name: 'output', rows: 4, class: 'code' },
    current === null || current === undefined
      ? ''
      : typeof current === 'string'
        ? current
        : JSON.stringify(current, null, 2),
  );
  const comment = h('input', {
    name: 'comment',
    placeholder: 'why (passed to the steps that re-run as {{ feedback }})',
  });
  const form = h(
    'form',
    {
      class: 'form',
      'data-form': 'correct',
      onSubmit: (e) => {
        e.preventDefault();
        act(form, async () => {
          let value = output.value;
          if (typeof current !== 'string' && current !== null && current !== undefined) {
            try {
              value = JSON.parse(value);
            } catch {}
          }
          const body = { output: value, ...(comment.value.trim() && { comment: comment.value.trim() }) };
          await api(`/v1/runs/${encodeURIComponent(run.id)}/steps/${encodeURIComponent(name)}/output`, {
            method: 'PUT',
            body,
          });
          onDone();
        });
      },
    },
    field('Corrected output', output),
    field('Comment', comment),
    h(
      'div',
      { class: 'form-actions' },
      h('button', { type: 'submit', 'data-action': 'correct' }, 'Correct: re-run only what depends on it'),
    ),
  );
  return form;
}

function stepPanel(run, def, name, refresh) {
  const st = run.steps[name];
  const step = def.steps[name];
  if (!st || !step) return h('p', { class: 'muted' }, 'Click a step.');
  const box = h('div', { class: 'step-detail', 'data-step-detail': name });
  // A cancelled run stays cancelled; any other can take a correction.
  const live = run.status !== 'cancelled';
  append(
    box,
    h('h3', {}, name, ' ', statusBadge(st.status)),
    h(
      'dl',
      { class: 'meta' },
      h('dt', {}, 'Type'),
      h('dd', {}, step.type ?? 'llm'),
      h('dt', {}, 'Attempts'),
      h('dd', {}, int(st.attempts)),
      h('dt', {}, 'Iterations'),
      h('dd', {}, int(st.iterations)),
      h('dt', {}, 'Cost'),
      h('dd', { 'data-field': 'cost' }, usd(st.cost_usd)),
      h('dt', {}, 'Started'),
      h('dd', {}, dateTime(st.started_at)),
      h('dt', {}, 'Ended'),
      h('dd', {}, dateTime(st.ended_at)),
    ),
    st.error ? h('p', { class: 'error' }, st.error) : null,
    st.status === 'waiting' && step.type === 'approval' ? approvalPanel(run, name, def, refresh) : null,
    h('h4', {}, 'Output'),
    show(st.output),
    st.history?.length > 1 || st.history?.some((e) => e.source === 'person')
      ? [
          h('h4', {}, 'History'),
          h(
            'ol',
            { class: 'history' },
            st.history.map((e) =>
              h(
                'li',
                {},
                `${dateTime(e.at)} · ${e.source}${e.cost_usd !== undefined ? ` · ${usd(e.cost_usd)}` : ''}${e.comment ? ` · “${e.comment}”` : ''}`,
                show(e.output),
              ),
            ),
          ),
        ]
      : null,
    h('details', {}, h('summary', {}, 'Prompt and settings (from the definition)'), stepSettings(step)),
  );
  if (live && step.type !== 'approval' && (st.status === 'succeeded' || st.status === 'failed')) {
    append(
      box,
      h(
        'details',
        { class: 'add' },
        h('summary', {}, 'Correct this output'),
        correctForm(run, name, refresh),
      ),
    );
  }
  if (run.status !== 'cancelled' && run.status !== 'running' && run.status !== 'pending') {
    append(
      box,
      h(
        'div',
        { class: 'form-actions' },
        h(
          'button',
          {
            type: 'button',
            'data-action': 'rerun',
            onClick: () =>
              act(box, async () => {
                await api(`/v1/runs/${encodeURIComponent(run.id)}/rerun`, {
                  method: 'POST',
                  body: { from: name },
                });
                refresh();
              }),
          },
          'Re-run from this step',
        ),
      ),
    );
  }
  return box;
}

export async function render({ root, id, signal }) {
  let run = (await api(`/v1/runs/${encodeURIComponent(id)}`, { signal })).data;
  const def = (await api(`/v1/workflows/${encodeURIComponent(run.workflow_id)}`, { signal })).data.definition;
  const order = Object.keys(def.steps);
  let selected = order.find((n) => run.steps[n]?.status === 'waiting') ?? null;

  const head = h('div', { class: 'run-head' });
  const graph = h('div', { class: 'graph' });
  const detail = h('div', {});
  let detailSignature = null;
  const log = h('ol', { class: 'events', 'data-events': '' });
  const liveState = h('span', { class: 'muted', 'data-live': '' });
  append(
    root,
    h(
      'p',
      { class: 'crumbs' },
      h('a', { href: '#/workflows' }, 'Workflows'),
      ' / ',
      h(
        'a',
        { href: `#/workflows/${encodeURIComponent(run.workflow_id)}` },
        run.workflow?.name ?? run.workflow_id,
      ),
      ' / run',
    ),
    head,
    section('Graph', liveState, h('div', { class: 'graph-and-detail' }, graph, legend(), detail)),
    section('Events', null, log),
  );

  let following = false;
  const refresh = async () => {
    try {
      run = (await api(`/v1/runs/${encodeURIComponent(id)}`, { signal })).data;
      draw();
      // A re-run or a correction brings a finished run back: follow it again.
      if (!following && !FINISHED.has(run.status)) follow();
    } catch (err) {
      if (err.name !== 'AbortError') append(head, errorBox(err));
    }
  };
  let timer = null;
  const refreshSoon = () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 120);
  };

  function draw() {
    replace(
      head,
      h('h1', {}, `${run.workflow?.name ?? 'Run'} `, h('small', {}, h('code', {}, run.id))),
      h(
        'div',
        { class: 'run-meta', 'data-run-status': run.status },
        statusBadge(run.status),
        h('span', {}, 'Cost ', h('strong', { 'data-field': 'run-cost' }, usd(run.cost_usd))),
        h('span', {}, 'Started ', dateTime(run.created_at)),
        FINISHED.has(run.status)
          ? null
          : h(
              'button',
              {
                type: 'button',
                class: 'danger',
                'data-action': 'cancel',
                onClick: () =>
                  act(head, async () => {
                    if (!confirm('Cancel this run? Calls in flight are aborted.')) return;
                    await api(`/v1/runs/${encodeURIComponent(run.id)}/cancel`, { method: 'POST' });
                    refresh();
                  }),
              },
              'Cancel run',
            ),
      ),
      run.error ? h('p', { class: 'error' }, run.error) : null,
      run.outputs ? h('details', { open: true }, h('summary', {}, 'Outputs'), show(run.outputs)) : null,
    );
    replace(
      graph,
      drawDag(def.steps, {
        statusOf: (n) => run.steps[n]?.status ?? 'pending',
        selected,
        onSelect: (n) => {
          selected = n;
          draw();
        },
      }),
    );
    // Redrawn only when what it shows changed: other steps' events must not wipe a comment or a
    // correction being typed.
    const shown = selected ? [selected, ...(def.steps[selected]?.needs ?? [])] : [];
    const signature = JSON.stringify([selected, run.status, shown.map((n) => run.steps[n])]);
    if (signature === detailSignature) return;
    detailSignature = signature;
    replace(
      detail,
      selected
        ? stepPanel(run, def, selected, refresh)
        : h('p', { class: 'muted step-detail' }, 'Click a step for its prompt, output, attempts and cost.'),
    );
  }
  // Follow the events until the run is over or the page is left; reconnect after a drop.
  let last = 0;
  async function follow() {
    following = true;
    while (!signal.aborted) {
      try {
        liveState.textContent = 'live';
        for await (const ev of events(`/v1/runs/${encodeURIComponent(id)}/events`, {
          signal,
          lastEventId: last,
        })) {
          if (ev.comment !== undefined) continue;
          const data = ev.json ?? {};
          last = Number(ev.id ?? last);
          append(
            log,
            h(
              'li',
              { 'data-seq': data.seq, 'data-type': data.type },
              `${dateTime(data.at)} `,
              h('code', {}, data.type),
              data.step ? ` ${data.step}` : '',
              data.error ? ` — ${data.error}` : '',
            ),
          );
          const state = EVENT_STATE[data.type];
          if (state && data.step && run.steps[data.step] && !data.back_to) {
            run.steps[data.step].status = state;
            if (state === 'waiting' && !selected) selected = data.step;
            draw();
          }
          refreshSoon();
        }
        run = (await api(`/v1/runs/${encodeURIComponent(id)}`, { signal })).data;
        draw();
        if (FINISHED.has(run.status)) {
          liveState.textContent = `run ${run.status}`;
          break;
        }
      } catch (err) {
        if (signal.aborted) break;
        liveState.textContent = `reconnecting (${err.message})`;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    following = false;
  }
  draw();
  follow();
}

function legend() {
  return h(
    'ul',
    { class: 'legend states' },
    STATES.map((s) => h('li', { class: `state status-${s}` }, h('span', { class: 'swatch-box' }), s)),
  );
}
