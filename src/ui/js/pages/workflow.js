// One workflow definition: its graph, each step's settings (click a node), a form for the run's inputs
// (typed as the definition declares them), and its recent runs.
import { api } from '../api.js';
import { dagView } from '../dag.js';
import { append, errorBox, field, h, replace, section } from '../dom.js';
import { dateTime } from '../format.js';
import { runsTable } from './workflows.js';

function inputControl(name, spec) {
  const value = spec.default;
  if (spec.type === 'boolean') return h('input', { type: 'checkbox', name, checked: value === true });
  if (spec.type === 'number')
    return h('input', { type: 'number', step: 'any', name, value, required: value === undefined });
  if (spec.type === 'object' || spec.type === 'array') {
    return h(
      'textarea',
      { name, rows: 3, class: 'code', required: value === undefined },
      value === undefined ? '' : JSON.stringify(value, null, 2),
    );
  }
  return h('input', { type: 'text', name, value, required: value === undefined });
}

function readInputs(form, inputs) {
  const out = {};
  for (const [name, spec] of Object.entries(inputs)) {
    const el = form.elements.namedItem(name);
    if (spec.type === 'boolean') out[name] = el.checked;
    else if (el.value === '' && spec.default !== undefined) continue;
    else if (spec.type === 'number') out[name] = Number(el.value);
    else if (spec.type === 'object' || spec.type === 'array') {
      try {
        out[name] = JSON.parse(el.value);
      } catch {
        throw new Error(`inputs.${name}: not valid JSON`);
      }
    } else out[name] = el.value;
  }
  return out;
}

/** What a step is configured to do, as a definition list. */
export function stepSettings(step) {
  const rows = Object.entries(step).filter(([k]) => k !== 'needs' || step.needs.length);
  return h(
    'dl',
    { class: 'settings' },
    rows.map(([k, v]) => [
      h('dt', {}, k),
      h('dd', {}, typeof v === 'string' ? h('pre', { class: 'text' }, v) : h('code', {}, JSON.stringify(v))),
    ]),
  );
}

export async function render({ root, id, signal }) {
  const w = (await api(`/v1/workflows/${encodeURIComponent(id)}`, { signal })).data;
  const def = w.definition;
  const inputs = def.inputs ?? {};
  append(
    root,
    h('p', { class: 'crumbs' }, h('a', { href: '#/workflows' }, 'Workflows'), ' / ', w.name),
    h('h1', {}, `${w.name} `, h('small', {}, `v${w.version} · ${w.team} · stored ${dateTime(w.created_at)}`)),
    def.description ? h('p', {}, def.description) : null,
  );

  const detail = h(
    'div',
    { class: 'step-detail' },
    h('p', { class: 'muted' }, 'Click a step to see its settings.'),
  );
  const graph = dagView(def.steps, {
    onSelect: (name) => replace(detail, h('h3', {}, name), stepSettings(def.steps[name])),
  });
  append(root, section('Graph', null, h('div', { class: 'graph-and-detail' }, graph, detail)));

  const status = h('div', { role: 'status' });
  const form = h(
    'form',
    {
      class: 'form grid',
      'data-form': 'start-run',
      onSubmit: async (e) => {
        e.preventDefault();
        replace(status);
        try {
          const body = { inputs: readInputs(form, inputs) };
          const started = (
            await api(`/v1/workflows/${encodeURIComponent(w.id)}/runs`, { method: 'POST', body })
          ).data;
          location.hash = `#/runs/${encodeURIComponent(started.run_id)}`;
        } catch (err) {
          replace(status, h('pre', { class: 'error' }, err.message));
        }
      },
    },
    Object.entries(inputs).map(([name, spec]) =>
      field(`${name} (${spec.type})`, inputControl(name, spec), spec.description),
    ),
    Object.keys(inputs).length ? null : h('p', { class: 'muted' }, 'This workflow takes no inputs.'),
    h(
      'div',
      { class: 'form-actions' },
      h('button', { type: 'submit', class: 'primary', 'data-action': 'start-run' }, 'Start a run'),
    ),
    status,
  );
  append(root, section('Start a run', null, form));

  const runsBox = h('div', {}, 'Loading…');
  append(root, section('Recent runs', null, runsBox));
  try {
    const runs = (await api('/v1/runs', { query: { workflow: w.id, limit: 20 }, signal })).data.data;
    replace(runsBox, runsTable(runs));
  } catch (err) {
    replace(runsBox, errorBox(err));
  }
}
