// Playground: one prompt to a model, `auto` or a preset through POST /v1/chat/completions. Before
// sending, the routing decision (POST /v1/route, a dry run: no call, no spend) or the preset's panel;
// after, the answer with its cost, latency and attempts, and for a fan-out every candidate side by side.
// Compare sends the same prompt to up to four models at once.
import { api } from '../api.js';
import { append, badge, errorBox, field, h, replace, section, table } from '../dom.js';
import { int, ms, pct, usd } from '../format.js';
import { panel } from './panel.js';

const MAX_COMPARE = 4;

/** Models that answer chat, grouped for the picker: routers, presets, models and aliases. */
function chatModels(list) {
  const groups = { router: [], preset: [], model: [], alias: [] };
  const byId = new Map(list.map((m) => [m.id, m]));
  for (const m of list) {
    const q = m.quorum ?? {};
    const target = q.kind === 'alias' ? byId.get(q.alias_of)?.quorum : q;
    if (target?.capabilities?.includes('embeddings')) continue;
    (groups[q.kind] ?? groups.model).push(m);
  }
  return { groups, byId };
}

function picker(name, groups, selected) {
  const labels = { router: 'Router', preset: 'Presets (fan-out)', model: 'Models', alias: 'Aliases' };
  return h(
    'select',
    { name, 'aria-label': 'Model' },
    Object.entries(groups)
      .filter(([, items]) => items.length)
      .map(([kind, items]) =>
        h(
          'optgroup',
          { label: labels[kind] },
          items.map((m) => h('option', { value: m.id, selected: m.id === selected }, m.id)),
        ),
      ),
  );
}

function requestBody(form, model) {
  const v = (name) => form.elements.namedItem(name).value;
  const body = { model, messages: [] };
  if (v('system').trim()) body.messages.push({ role: 'system', content: v('system') });
  body.messages.push({ role: 'user', content: v('prompt') });
  if (v('max_tokens')) body.max_tokens = Number(v('max_tokens'));
  if (v('temperature')) body.temperature = Number(v('temperature'));
  return body;
}

/** Candidates of a route decision: chosen first, then eligible by score, then excluded with why. */
export function decisionView(d) {
  return h(
    'div',
    { class: 'decision', 'data-decision': d.chosen ?? '' },
    h(
      'p',
      {},
      'Policy ',
      h('strong', {}, d.policy),
      ': ',
      d.chosen ? ['chooses ', h('strong', { 'data-chosen': d.chosen }, d.chosen)] : 'no eligible model',
      d.fallbacks?.length ? `, falling back to ${d.fallbacks.join(', ')}` : '',
      '.',
    ),
    d.why && h('p', { class: 'why', 'data-why': '' }, d.why),
    d.task &&
      h(
        'p',
        { class: 'muted' },
        `Task: ${
          Object.entries(d.task.categories)
            .filter(([, w]) => w > 0)
            .map(([k, w]) => `${k} ${pct(w)}`)
            .join(', ') || 'general'
        }; difficulty ${d.task.difficulty}; ~${int(d.task.prompt_tokens)} prompt tokens`,
        d.task.required.length ? `; needs ${d.task.required.join(', ')}` : '',
        '.',
      ),
    table(
      [
        {
          label: 'Model',
          value: (c) => [c.model, c.model === d.chosen ? [' ', badge('chosen', 'ok')] : null],
        },
        { label: 'Quality', class: 'num', value: (c) => (c.scores ? c.scores.quality.toFixed(2) : '—') },
        { label: 'Est. cost', class: 'num', value: (c) => (c.scores ? usd(c.scores.cost_usd) : '—') },
        { label: 'Est. latency', class: 'num', value: (c) => (c.scores ? ms(c.scores.latency_ms) : '—') },
        { label: 'Score', class: 'num', value: (c) => (c.scores ? c.scores.total.toFixed(3) : '—') },
        {
          label: 'Excluded because',
          value: (c) => (c.eligible ? '' : h('span', { class: 'muted' }, c.reason ?? 'excluded')),
        },
      ],
      d.candidates,
      {
        name: 'candidates',
        rowAttrs: (c) => ({ 'data-model': c.model, class: c.eligible ? '' : 'excluded' }),
      },
    ),
  );
}

function presetView(id, q) {
  return h(
    'div',
    { class: 'decision', 'data-preset': id },
    h(
      'p',
      {},
      'Preset ',
      h('strong', {}, id),
      `: ${q.strategy.replaceAll('_', ' ')} over `,
      h('strong', {}, q.models.join(', ')),
      q.judge ? [', judged by ', h('strong', {}, q.judge)] : '',
      '. Every member is asked; no routing happens.',
    ),
  );
}

/** The answer of one chat request: text, what answered, cost, latency, tokens, and the record. */
function answerView(res, model) {
  const data = res.data;
  const q = data.quorum ?? {};
  const text = data.choices?.[0]?.message?.content ?? '';
  return h(
    'div',
    { class: 'answer', 'data-answer': model },
    h(
      'dl',
      { class: 'meta' },
      h('dt', {}, 'Asked'),
      h('dd', {}, model),
      h('dt', {}, 'Answered by'),
      h('dd', { 'data-field': 'model' }, res.headers.get('x-quorum-model') ?? data.model),
      h('dt', {}, 'Cost'),
      h('dd', { 'data-field': 'cost', 'data-value': q.cost_usd }, usd(q.cost_usd)),
      h('dt', {}, 'Latency'),
      h('dd', { 'data-field': 'latency' }, ms(res.ms)),
      h('dt', {}, 'Tokens'),
      h('dd', {}, `${int(data.usage?.prompt_tokens)} in · ${int(data.usage?.completion_tokens)} out`),
    ),
    h('pre', { class: 'text', 'data-field': 'content' }, text),
    q.attempts?.length
      ? h(
          'p',
          { class: 'muted attempts' },
          'Attempts: ',
          q.attempts.map((a, i) => [
            i ? ' → ' : '',
            `${a.model} (${a.status}${a.error ? `: ${a.error}` : ''})`,
          ]),
        )
      : null,
    q.cache ? h('p', {}, badge('cache hit', 'info')) : null,
  );
}

export async function render({ root, signal }) {
  append(root, h('h1', {}, 'Playground'));
  const list = (await api('/v1/models', { signal })).data.data;
  const { groups, byId } = chatModels(list);
  const first = groups.router[0]?.id ?? groups.model[0]?.id;

  const decision = h('div', { class: 'decision-slot' });
  const result = h('div', { class: 'result-slot' });
  const compareBox = h('div', { class: 'compare-pickers', hidden: true });
  const modelBox = h('div', { class: 'single-picker' });
  const model = picker('model', groups, first);
  replace(modelBox, field('Model', model));
  const compare = h('input', { type: 'checkbox', name: 'compare' });
  const pickers = Array.from({ length: MAX_COMPARE }, (_, i) => {
    const p = picker(`compare-${i}`, groups, i < 2 ? groups.model[i]?.id : null);
    p.prepend(h('option', { value: '', selected: i >= 2 }, '—'));
    return p;
  });
  append(compareBox, ...pickers.map((p, i) => field(`Model ${i + 1}`, p)));
  compare.addEventListener('change', () => {
    compareBox.hidden = !compare.checked;
    modelBox.hidden = compare.checked;
    replace(decision);
  });

  const dryRun = async (form) => {
    const id = model.value;
    const q = byId.get(id)?.quorum;
    if (q?.kind === 'preset')
      return replace(decision, section('Before sending: the panel', null, presetView(id, q)));
    try {
      const d = (await api('/v1/route', { method: 'POST', body: requestBody(form, id), signal })).data;
      replace(decision, section('Before sending: the routing decision', null, decisionView(d)));
    } catch (err) {
      replace(decision, errorBox(err));
    }
  };

  const send = async (form) => {
    const models = compare.checked ? pickers.map((p) => p.value).filter(Boolean) : [model.value];
    if (models.length === 0) return replace(result, errorBox('Pick at least one model to compare.'));
    replace(result, h('p', { class: 'muted' }, 'Sending…'));
    const answers = await Promise.all(
      models.map((m) =>
        api('/v1/chat/completions', { method: 'POST', body: requestBody(form, m), signal }).then(
          (res) => ({ m, res }),
          (err) => ({ m, err }),
        ),
      ),
    );
    if (compare.checked) {
      replace(
        result,
        section(
          'Compared',
          null,
          h(
            'div',
            { class: ['columns-grid', `n${answers.length}`], 'data-compare': answers.length },
            answers.map(({ m, res, err }) =>
              h('div', { class: 'col' }, h('h3', {}, m), err ? errorBox(err) : answerView(res, m)),
            ),
          ),
        ),
      );
      return;
    }
    const [{ m, res, err }] = answers;
    if (err) return replace(result, errorBox(err));
    const q = res.data.quorum ?? {};
    replace(
      result,
      section('Answer', null, answerView(res, m)),
      q.route ? section('How it was routed', null, decisionView(q.route)) : null,
      q.candidates ? section('The panel', null, panel(q)) : null,
    );
  };

  const form = h(
    'form',
    {
      class: 'form playground',
      'data-form': 'playground',
      onSubmit: (e) => {
        e.preventDefault();
        send(form);
      },
    },
    h(
      'div',
      { class: 'row wrap' },
      modelBox,
      field('Compare', h('span', { class: 'inline' }, compare, ` up to ${MAX_COMPARE} models side by side`)),
    ),
    compareBox,
    field('System (optional)', h('textarea', { name: 'system', rows: 2 })),
    field('Prompt', h('textarea', { name: 'prompt', rows: 4, required: true }, 'What is 17 * 23?')),
    h(
      'div',
      { class: 'row wrap' },
      field('Max tokens', h('input', { name: 'max_tokens', type: 'number', min: 1, step: 1 })),
      field('Temperature', h('input', { name: 'temperature', type: 'number', min: 0, max: 2, step: 0.1 })),
    ),
    h(
      'div',
      { class: 'form-actions' },
      h('button', { type: 'button', 'data-action': 'dry-run', onClick: () => dryRun(form) }, 'Show routing'),
      h('button', { type: 'submit', class: 'primary', 'data-action': 'send' }, 'Send'),
    ),
  );
  model.addEventListener('change', () => replace(decision));
  append(root, section('Prompt', null, form), decision, result);
}
