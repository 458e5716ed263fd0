// A fan-out's record side by side: each candidate's answer, cost and latency (and score, layer, role,
// error), the answer groups and the agreement, the selected answer, the judge's rationale.
import { badge, h } from '../dom.js';
import { int, ms, pct, usd } from '../format.js';

export function panel(q) {
  const groupOf = new Map();
  (q.groups ?? []).forEach((g, n) => {
    for (const m of g.members) groupOf.set(m, n);
  });
  return h(
    'div',
    { class: 'panel', 'data-strategy': q.strategy },
    h(
      'div',
      { class: 'panel-summary' },
      h('span', {}, 'Strategy ', h('strong', {}, q.strategy?.replaceAll('_', ' '))),
      q.agreement !== undefined
        ? h('span', { 'data-agreement': q.agreement }, 'Agreement ', h('strong', {}, pct(q.agreement)))
        : null,
      q.selected
        ? h(
            'span',
            {},
            'Selected ',
            h(
              'strong',
              { 'data-selected': q.selected.index },
              `#${q.selected.index + 1} ${q.selected.model}`,
            ),
          )
        : null,
      h('span', {}, 'Total cost ', h('strong', {}, usd(q.cost_usd))),
      q.degraded?.length ? badge(`degraded: ${q.degraded.join(', ')}`, 'warn') : null,
    ),
    q.groups?.length
      ? h(
          'ul',
          { class: 'groups', 'data-groups': q.groups.length },
          q.groups.map((g, n) =>
            h(
              'li',
              {},
              h('span', { class: `dot series-${n % 8}` }),
              g.answer === undefined || g.answer === null
                ? h('span', { class: 'muted' }, `group ${n + 1}`)
                : h('code', {}, g.answer.length > 80 ? `${g.answer.slice(0, 80)}…` : g.answer),
              ` — ${g.members.length} of ${q.candidates.length}: `,
              g.members.map((m) => `#${m + 1}`).join(', '),
            ),
          ),
        )
      : null,
    h(
      'div',
      { class: 'candidates' },
      q.candidates.map((c, i) =>
        h(
          'article',
          {
            class: ['candidate', q.selected?.index === i ? 'selected' : '', c.error ? 'failed' : ''],
            'data-candidate': i,
            'data-model': c.model,
          },
          h(
            'header',
            {},
            h('strong', {}, `#${i + 1} ${c.model}`),
            groupOf.has(i)
              ? h('span', { class: `dot series-${groupOf.get(i) % 8}`, title: 'answer group' })
              : null,
            q.selected?.index === i ? badge('selected', 'ok') : null,
            c.role ? badge(c.role, 'info') : null,
            c.layer !== undefined ? badge(`layer ${c.layer}`, 'muted') : null,
          ),
          h(
            'dl',
            { class: 'meta' },
            h('dt', {}, 'Cost'),
            h('dd', { 'data-field': 'cost', 'data-value': c.cost_usd }, usd(c.cost_usd)),
            h('dt', {}, 'Latency'),
            h('dd', { 'data-field': 'latency' }, ms(c.latency_ms)),
            h('dt', {}, 'Tokens'),
            h(
              'dd',
              {},
              `${int(c.usage?.prompt_tokens ?? 0)} in · ${int(c.usage?.completion_tokens ?? 0)} out`,
            ),
            c.score !== undefined ? [h('dt', {}, 'Score'), h('dd', {}, String(c.score))] : null,
          ),
          c.error
            ? h('p', { class: 'error' }, c.error)
            : c.content === undefined || c.content === null
              ? h('p', { class: 'muted' }, 'Answer not logged (content logging is off).')
              : h('pre', { class: 'text' }, c.content),
        ),
      ),
    ),
    q.judge
      ? h(
          'div',
          { class: 'judge' },
          h('h3', {}, `Judge: ${q.judge.model}`),
          h('p', { 'data-field': 'rationale' }, q.judge.rationale ?? ''),
        )
      : null,
    q.review
      ? h(
          'div',
          { class: 'judge' },
          h('h3', {}, 'Review'),
          h(
            'p',
            {},
            `Verdict ${q.review.verdict}, score ${q.review.score}, ${q.review.rounds} round(s), stopped by ${q.review.stopped_by}.`,
          ),
        )
      : null,
  );
}
