// The shell: sign-in, the navigation, and the hash router (#/overview, #/runs/run_…) that renders one
// page at a time. A page gets an AbortSignal that fires when the user leaves it, so its streams and
// timers stop.
import { ApiError, api, forgetKey, storedKey, storeKey } from './api.js';
import { append, badge, errorBox, h, replace } from './dom.js';
import * as alerts from './pages/alerts.js';
import * as audit from './pages/audit.js';
import * as overview from './pages/overview.js';
import * as playground from './pages/playground.js';
import * as requests from './pages/requests.js';
import * as run from './pages/run.js';
import * as teams from './pages/teams.js';
import * as usage from './pages/usage.js';
import * as workflow from './pages/workflow.js';
import * as workflows from './pages/workflows.js';

const app = document.getElementById('app');

/** Pages in the navigation; `admin` ones need the master key. */
const NAV = [
  { path: 'overview', label: 'Overview', page: overview },
  { path: 'usage', label: 'Spend over time', page: usage },
  { path: 'requests', label: 'Requests', page: requests },
  { path: 'playground', label: 'Playground', page: playground },
  { path: 'workflows', label: 'Workflows', page: workflows },
  { path: 'teams', label: 'Teams and keys', page: teams, admin: true },
  { path: 'alerts', label: 'Alerts', page: alerts, admin: true },
  { path: 'audit', label: 'Audit', page: audit, admin: true },
];
/** Pages reached from others: a definition, a run, one request. */
const DETAIL = { workflows: workflow, runs: run, requests: requests };
/** The navigation entry a detail page belongs to. */
const PARENT = { runs: 'workflows' };

let me = null;
let leave = null;

function roleLabel(who) {
  if (who.role === 'master') return 'master key: every team';
  if (who.role === 'open') return 'open gateway: no keys configured';
  return `team ${who.team}${who.key?.name ? ` · key ${who.key.name}` : ''}`;
}

function signOut() {
  forgetKey();
  me = null;
  leave?.abort();
  location.hash = '';
  start();
}

function shell() {
  const nav = h(
    'nav',
    { class: 'nav', 'aria-label': 'Pages' },
    NAV.filter((n) => !n.admin || me.role !== 'team').map((n) =>
      h('a', { href: `#/${n.path}`, 'data-nav': n.path }, n.label),
    ),
  );
  const identity = h(
    'div',
    { class: 'identity', 'data-identity': me.role },
    h(
      'div',
      { class: 'who' },
      badge(me.role, me.role === 'team' ? 'info' : me.role === 'master' ? 'ok' : 'warn'),
    ),
    h('div', { class: 'who-detail', 'data-team': me.team }, roleLabel(me)),
    me.role === 'open'
      ? null
      : h(
          'button',
          { type: 'button', class: 'ghost', 'data-action': 'sign-out', onClick: signOut },
          'Sign out',
        ),
  );
  const main = h('main', { id: 'main', class: 'main', tabindex: '-1' });
  replace(
    app,
    h(
      'aside',
      { class: 'side' },
      h('a', { class: 'brand', href: '#/overview' }, h('span', { class: 'logo' }), 'Quorum'),
      nav,
      identity,
    ),
    main,
  );
  return main;
}

function route() {
  leave?.abort();
  leave = new AbortController();
  const [path = '', search = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const [first = 'overview', id] = path.split('/').map(decodeURIComponent);
  const entry = NAV.find((n) => n.path === (PARENT[first] ?? first)) ?? NAV[0];
  const page = id !== undefined && DETAIL[first] ? DETAIL[first] : entry.page;
  const main = app.querySelector('#main') ?? shell();
  for (const a of app.querySelectorAll('[data-nav]')) {
    a.classList.toggle('active', a.getAttribute('data-nav') === entry.path);
  }
  main.replaceChildren();
  main.setAttribute('data-page', page === entry.page ? entry.path : `${first}-detail`);
  if (entry.admin && me.role === 'team') {
    append(main, errorBox('This page needs the master key.'));
    return;
  }
  const query = new URLSearchParams(search);
  Promise.resolve(page.render({ root: main, me, id, query, signal: leave.signal })).catch((err) => {
    if (err?.name !== 'AbortError') append(main, errorBox(err));
  });
}

function signInForm(message) {
  const input = h('input', {
    type: 'password',
    name: 'key',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    placeholder: 'QUORUM_MASTER_KEY or a team key',
    'aria-label': 'API key',
  });
  const status = h('div', { class: 'signin-status', role: 'status' }, message ? errorBox(message) : null);
  const form = h(
    'form',
    {
      class: 'signin',
      autocomplete: 'off',
      onSubmit: async (e) => {
        e.preventDefault();
        const key = input.value.trim();
        if (!key) return;
        replace(status, 'Checking…');
        try {
          const who = (await api('/v1/whoami', { key })).data;
          input.value = '';
          storeKey(key);
          me = who;
          shell();
          if (!location.hash || location.hash === '#/') location.hash = '#/overview';
          else route();
        } catch (err) {
          input.value = '';
          replace(status, errorBox(err instanceof ApiError && err.status === 401 ? `${err.message}` : err));
        }
      },
    },
    h('h1', {}, h('span', { class: 'logo' }), 'Quorum'),
    h(
      'p',
      {},
      'Sign in with the master key to see and manage every team, or with a team key to see that team. ',
      'The key stays in this browser tab (sessionStorage) and is sent only to this gateway’s API.',
    ),
    input,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    status,
  );
  replace(app, h('div', { class: 'signin-page' }, form));
  input.focus();
}

async function start() {
  const key = storedKey();
  try {
    me = (await api('/v1/whoami')).data;
  } catch (err) {
    // With a stored key, a 401 has already brought the sign-in back (quorum:key-refused), saying why.
    if (err instanceof ApiError && err.status === 401) return key ? undefined : signInForm(null);
    replace(app, errorBox(err));
    return;
  }
  shell();
  route();
}

window.addEventListener('quorum:key-refused', (e) => {
  forgetKey();
  me = null;
  leave?.abort();
  signInForm(`${e.detail} Sign in again.`);
});
window.addEventListener('hashchange', () => {
  if (me) route();
});
start();
