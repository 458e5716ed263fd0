// Every budget window of every scope as gauges, grouped by team then scope: from GET /admin/budgets
// (master key, with the overrides in force beside it) or from GET /v1/budget's `scopes` (a team key: its
// own team's). The list is cut at MAX_WINDOWS so a team with thousands of end users stays a page.
import { gauge } from '../charts.js';
import { h } from '../dom.js';
import { dateTime, usd } from '../format.js';

export const MAX_WINDOWS = 60;

const ORDER = { team: 0, key: 1, user: 2 };
const rank = (scope) => ORDER[scope] ?? 3;

/** A scope as people read it: `team`, `key <name>`, `user <id>`, `tag:<selector>`. */
export function scopeName(w, keyNames) {
  if (w.scope === 'team') return 'team';
  if (w.scope === 'key') {
    const name = keyNames.get(w.id) ?? (w.id.startsWith('static:') ? w.id.slice(7) : w.id);
    return `key ${name}`;
  }
  if (w.scope === 'user') return `user ${w.id}`;
  return w.scope;
}

/** The override in force on a window (the highest, where several are): same scope, and its period or all. */
function overrideOf(w, overrides) {
  let best = null;
  for (const o of overrides) {
    if (o.team !== w.team || o.scope !== w.scope || o.scope_id !== w.id) continue;
    if (o.period !== null && o.period !== w.period) continue;
    if (!best || o.limit_usd > best.limit_usd) best = o;
  }
  return best;
}

/**
 * The gauges of `windows` ({scope, team, id, period, limit_usd, spent_usd, reserved_usd, remaining_usd,
 * resets_at, soft_limit_usd?, configured_limit_usd?}), at most MAX_WINDOWS, saying how many more there are.
 */
export function windowGauges(windows, { keyNames = new Map(), overrides = [] } = {}) {
  const sorted = windows
    .map((w, i) => ({ w, i }))
    .sort(
      (a, b) =>
        a.w.team.localeCompare(b.w.team) ||
        rank(a.w.scope) - rank(b.w.scope) ||
        a.w.scope.localeCompare(b.w.scope) ||
        a.w.id.localeCompare(b.w.id) ||
        a.i - b.i,
    )
    .map((x) => x.w);
  const shown = sorted.slice(0, MAX_WINDOWS);
  const teams = new Map();
  for (const w of shown) {
    const scopes = teams.get(w.team) ?? new Map();
    teams.set(w.team, scopes);
    const key = `${w.scope}\u0000${w.id}`;
    if (!scopes.has(key)) scopes.set(key, []);
    scopes.get(key).push(w);
  }
  const out = [];
  for (const [team, scopes] of teams) {
    out.push(h('h3', { class: 'budget-team', 'data-budget-team': team }, team));
    for (const list of scopes.values()) {
      const label = scopeName(list[0], keyNames);
      out.push(
        h(
          'div',
          {
            class: 'gauge-card',
            'data-scope': list[0].scope,
            'data-scope-id': list[0].id,
            'data-team': team,
          },
          h('h3', {}, `${team} · ${label}`),
          list.map((w) => windowGauge(w, overrideOf(w, overrides))),
        ),
      );
    }
  }
  const hidden = sorted.length - shown.length;
  if (hidden > 0) {
    out.push(
      h(
        'p',
        { class: 'muted', 'data-more-windows': hidden },
        `${hidden} more budget window${hidden === 1 ? '' : 's'} not shown (the first ${MAX_WINDOWS} are). GET /admin/budgets lists them all.`,
      ),
    );
  }
  return out;
}

function windowGauge(w, override) {
  const soft = w.soft_limit_usd ?? null;
  return h(
    'div',
    {
      class: 'budget-window',
      'data-window': `${w.team}/${w.scope}/${w.id}/${w.period}`,
      'data-period': w.period,
    },
    h('h4', {}, w.period),
    gauge({
      team: w.team,
      period: w.period,
      limit_usd: w.limit_usd,
      soft_limit_usd: soft,
      spent_usd: w.spent_usd,
      reserved_usd: w.reserved_usd,
      remaining_usd: w.remaining_usd,
      resets_at: w.resets_at,
      soft_limit_reached: soft !== null && w.spent_usd >= soft,
    }),
    override
      ? h(
          'p',
          { class: 'gauge-note override', 'data-override': override.id },
          `override until ${dateTime(override.expires_at)}: ${override.reason}`,
          w.configured_limit_usd !== undefined ? ` (configured limit ${usd(w.configured_limit_usd)})` : '',
        )
      : null,
  );
}
