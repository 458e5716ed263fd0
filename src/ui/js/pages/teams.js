// Teams and keys (master key only), all through the admin API: teams with their budget, limits and
// allow-list; keys created (the secret shown once, then gone from the page), listed, revoked. Teams and
// keys of the config file are shown as such and cannot be changed here.
import { api } from '../api.js';
import { bar } from '../charts.js';
import { append, badge, errorBox, field, h, replace, section, table } from '../dom.js';
import { dateTime, usd } from '../format.js';

const PERIODS = ['daily', 'weekly', 'monthly', 'total'];

const num = (v) => (v === '' || v === null || v === undefined ? undefined : Number(v));

/** The form's fields as a create body (absent = not set) or a merge patch (blank = removed). */
function teamBody(form, patch) {
  const v = (name) => form.elements.namedItem(name).value.trim();
  const limit = num(v('limit_usd'));
  const soft = num(v('soft_limit_usd'));
  const rpm = num(v('rpm'));
  const tpm = num(v('tpm'));
  const models = v('models')
    .split(/[\s,]+/)
    .filter(Boolean);
  const body = {};
  if (limit !== undefined) {
    body.budget = { limit_usd: limit, period: v('period') };
    if (soft !== undefined) body.budget.soft_limit_usd = soft;
    else if (patch) body.budget.soft_limit_usd = null;
  } else if (patch) body.budget = null;
  if (rpm !== undefined || tpm !== undefined) {
    body.limits = {};
    if (rpm !== undefined) body.limits.rpm = rpm;
    else if (patch) body.limits.rpm = null;
    if (tpm !== undefined) body.limits.tpm = tpm;
    else if (patch) body.limits.tpm = null;
  } else if (patch) body.limits = null;
  if (models.length) body.models = models;
  else if (patch) body.models = null;
  return body;
}

function teamForm(team, models, onDone) {
  const editing = Boolean(team);
  const status = h('div', { role: 'status' });
  const form = h(
    'form',
    {
      class: 'form grid',
      'data-form': editing ? 'edit-team' : 'new-team',
      onSubmit: async (e) => {
        e.preventDefault();
        replace(status);
        try {
          if (editing) {
            await api(`/admin/teams/${encodeURIComponent(team.id)}`, {
              method: 'PATCH',
              body: teamBody(form, true),
            });
          } else {
            const id = form.elements.namedItem('id').value.trim();
            await api('/admin/teams', { method: 'POST', body: { id, ...teamBody(form, false) } });
          }
          onDone();
        } catch (err) {
          replace(status, errorBox(err));
        }
      },
    },
    editing
      ? null
      : field(
          'Team id',
          h('input', {
            name: 'id',
            required: true,
            pattern: '[A-Za-z0-9][A-Za-z0-9_.:@\\-]*',
            maxlength: 200,
          }),
        ),
    field(
      'Budget, USD',
      h('input', { name: 'limit_usd', type: 'number', min: 0, step: 'any', value: team?.budget?.limit_usd }),
      'blank: no budget',
    ),
    field(
      'Period',
      h(
        'select',
        { name: 'period' },
        PERIODS.map((p) => h('option', { value: p, selected: (team?.budget?.period ?? 'monthly') === p }, p)),
      ),
    ),
    field(
      'Soft limit, USD',
      h('input', {
        name: 'soft_limit_usd',
        type: 'number',
        min: 0,
        step: 'any',
        value: team?.budget?.soft_limit_usd,
      }),
      'warns, never refuses',
    ),
    field(
      'Requests / min',
      h('input', { name: 'rpm', type: 'number', min: 1, step: 1, value: team?.limits?.rpm }),
    ),
    field(
      'Tokens / min',
      h('input', { name: 'tpm', type: 'number', min: 1, step: 1, value: team?.limits?.tpm }),
    ),
    field(
      'Allowed models',
      h('input', {
        name: 'models',
        list: `model-names-${editing ? 'edit' : 'new'}`,
        value: team?.models?.join(' '),
        placeholder: 'all',
      }),
      'names, aliases, presets or auto, separated by spaces; blank: all',
    ),
    h(
      'datalist',
      { id: `model-names-${editing ? 'edit' : 'new'}` },
      models.map((m) => h('option', { value: m })),
    ),
    h(
      'div',
      { class: 'form-actions' },
      h('button', { type: 'submit', class: 'primary' }, editing ? 'Save' : 'Create team'),
      editing ? h('button', { type: 'button', class: 'ghost', onClick: onDone }, 'Cancel') : null,
    ),
    status,
  );
  return form;
}

function teamsTable(teams, { onEdit, onDelete }) {
  return table(
    [
      {
        label: 'Team',
        value: (t) =>
          h('span', {}, h('strong', {}, t.id), ' ', t.source === 'config' ? badge('config', 'muted') : null),
      },
      {
        label: 'Budget',
        value: (t) =>
          t.budget
            ? h(
                'div',
                { class: 'mini-gauge' },
                bar(t.spent_usd ?? 0, t.budget.limit_usd, t.soft_limit_reached ? 3 : 0),
                h('small', {}, `${usd(t.spent_usd)} of ${usd(t.budget.limit_usd)} ${t.budget.period}`),
              )
            : h('span', { class: 'muted' }, 'none'),
      },
      {
        label: 'Soft limit',
        value: (t) => (t.budget?.soft_limit_usd !== undefined ? usd(t.budget.soft_limit_usd) : '—'),
      },
      {
        label: 'Limits',
        value: (t) =>
          [t.limits?.rpm ? `${t.limits.rpm} rpm` : null, t.limits?.tpm ? `${t.limits.tpm} tpm` : null]
            .filter(Boolean)
            .join(', ') || '—',
      },
      {
        label: 'Models',
        value: (t) => (t.models ? t.models.join(', ') : h('span', { class: 'muted' }, 'all')),
      },
      {
        label: '',
        class: 'row-actions',
        value: (t) =>
          t.source === 'config'
            ? h('small', { class: 'muted' }, 'edit in the config file')
            : [
                h(
                  'button',
                  { type: 'button', class: 'ghost', 'data-action': 'edit-team', onClick: () => onEdit(t) },
                  'Edit',
                ),
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'ghost danger',
                    'data-action': 'delete-team',
                    onClick: () => onDelete(t),
                  },
                  'Delete',
                ),
              ],
      },
    ],
    teams,
    { name: 'teams', empty: 'No teams yet.', rowAttrs: (t) => ({ 'data-team': t.id }) },
  );
}

function keyStatus(k) {
  return badge(k.status, k.status === 'active' ? 'ok' : k.status === 'revoked' ? 'bad' : 'warn');
}

function keysTable(keys, onRevoke) {
  return table(
    [
      { label: 'Name', value: (k) => h('strong', {}, k.name ?? h('span', { class: 'muted' }, 'unnamed')) },
      { label: 'Team', value: (k) => k.team },
      {
        label: 'Key',
        value: (k) => (k.source === 'config' ? badge('config file', 'muted') : h('code', {}, `${k.prefix}…`)),
      },
      { label: 'Status', value: keyStatus },
      { label: 'Created', value: (k) => (k.created_at ? dateTime(k.created_at) : '—') },
      {
        label: 'Expires',
        value: (k) => (k.source === 'config' ? '—' : k.expires_at ? dateTime(k.expires_at) : 'never'),
      },
      {
        label: 'Limits',
        value: (k) =>
          [k.limits?.rpm && `${k.limits.rpm} rpm`, k.limits?.tpm && `${k.limits.tpm} tpm`]
            .filter(Boolean)
            .join(', ') || '—',
      },
      {
        label: '',
        class: 'row-actions',
        value: (k) =>
          k.source === 'config'
            ? h('small', { class: 'muted' }, 'remove from the config file to revoke')
            : k.status === 'active'
              ? h(
                  'button',
                  {
                    type: 'button',
                    class: 'ghost danger',
                    'data-action': 'revoke',
                    onClick: () => onRevoke(k),
                  },
                  'Revoke',
                )
              : null,
      },
    ],
    keys,
    {
      name: 'keys',
      empty: 'No keys yet.',
      rowAttrs: (k) => ({ 'data-key': k.id ?? `static:${k.name}`, 'data-status': k.status }),
    },
  );
}

/** The new key, once: a read-only field, a copy button, and Done, which takes it off the page. */
function secretPanel(created, onDone) {
  const input = h('input', {
    class: 'secret',
    readonly: true,
    value: created.key,
    'aria-label': 'New key',
    'data-secret': '',
  });
  const copied = h('span', { class: 'muted', role: 'status' });
  const panel = h(
    'div',
    { class: 'secret-panel', role: 'alertdialog', 'aria-label': 'New key' },
    h('h3', {}, `Key “${created.name}” for team ${created.team}`),
    h('p', {}, 'Copy it now: it is shown this once and stored only as a hash.'),
    h(
      'div',
      { class: 'row' },
      input,
      h(
        'button',
        {
          type: 'button',
          class: 'primary',
          'data-action': 'copy',
          onClick: async () => {
            input.select();
            try {
              await navigator.clipboard.writeText(input.value);
              copied.textContent = 'Copied.';
            } catch {
              copied.textContent = 'Selected: press Ctrl+C (⌘C) to copy.';
            }
          },
        },
        'Copy',
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'ghost',
          'data-action': 'done',
          onClick: () => {
            input.value = '';
            panel.remove();
            onDone();
          },
        },
        'Done',
      ),
    ),
    copied,
  );
  return panel;
}

function keyForm(teams, onCreated) {
  const status = h('div', { role: 'status' });
  const form = h(
    'form',
    {
      class: 'form grid',
      'data-form': 'new-key',
      onSubmit: async (e) => {
        e.preventDefault();
        replace(status);
        const v = (name) => form.elements.namedItem(name).value.trim();
        const body = { team: v('team'), name: v('name') };
        if (v('expires_at')) body.expires_at = v('expires_at');
        const rpm = num(v('rpm'));
        const tpm = num(v('tpm'));
        if (rpm !== undefined || tpm !== undefined)
          body.limits = { ...(rpm && { rpm }), ...(tpm && { tpm }) };
        try {
          const created = (await api('/admin/keys', { method: 'POST', body })).data;
          form.reset();
          onCreated(created);
        } catch (err) {
          replace(status, errorBox(err));
        }
      },
    },
    field(
      'Team',
      h(
        'select',
        { name: 'team', required: true },
        teams.map((t) => h('option', { value: t.id }, t.id)),
      ),
    ),
    field('Name', h('input', { name: 'name', required: true, maxlength: 200, placeholder: 'ci-bot' })),
    field('Expires', h('input', { name: 'expires_at', type: 'date' }), 'blank: never (a date: UTC midnight)'),
    field('Requests / min', h('input', { name: 'rpm', type: 'number', min: 1, step: 1 })),
    field('Tokens / min', h('input', { name: 'tpm', type: 'number', min: 1, step: 1 })),
    h(
      'div',
      { class: 'form-actions' },
      h('button', { type: 'submit', class: 'primary', disabled: teams.length === 0 }, 'Create key'),
    ),
    status,
  );
  return form;
}

export async function render({ root, signal }) {
  append(root, h('h1', {}, 'Teams and keys'));
  const teamsBox = h('div', {}, 'Loading…');
  const keysBox = h('div', {}, 'Loading…');
  const secretBox = h('div', { class: 'secret-slot' });
  const newTeam = h('div');
  const newKey = h('div');
  append(
    root,
    section('Teams', null, teamsBox, h('details', { class: 'add' }, h('summary', {}, 'New team'), newTeam)),
    section(
      'Keys',
      null,
      secretBox,
      keysBox,
      h('details', { class: 'add' }, h('summary', {}, 'New key'), newKey),
    ),
  );
  let models = [];
  try {
    models = (await api('/v1/models', { signal })).data.data.map((m) => m.id);
  } catch {}

  const load = async () => {
    try {
      const [teams, keys] = await Promise.all([
        api('/admin/teams', { signal }).then((r) => r.data.data),
        api('/admin/keys', { signal }).then((r) => r.data.data),
      ]);
      const editRow = h('div');
      replace(
        teamsBox,
        teamsTable(teams, {
          onEdit: (t) => replace(editRow, h('h3', {}, `Edit ${t.id}`), teamForm(t, models, load)),
          onDelete: async (t) => {
            if (!confirm(`Delete team ${t.id}? Its spend history stays in the ledger.`)) return;
            try {
              await api(`/admin/teams/${encodeURIComponent(t.id)}`, { method: 'DELETE' });
              load();
            } catch (err) {
              replace(editRow, errorBox(err));
            }
          },
        }),
        editRow,
      );
      replace(
        keysBox,
        keysTable(keys, async (k) => {
          if (
            !confirm(
              `Revoke key ${k.name} (${k.prefix}…) of team ${k.team}? It is refused from the next request on.`,
            )
          )
            return;
          try {
            await api(`/admin/keys/${encodeURIComponent(k.id)}`, { method: 'DELETE' });
            load();
          } catch (err) {
            keysBox.prepend(errorBox(err));
          }
        }),
      );
      replace(newTeam, teamForm(null, models, load));
      replace(
        newKey,
        keyForm(teams, (created) => {
          replace(
            secretBox,
            secretPanel(created, () => {}),
          );
          load();
        }),
      );
    } catch (err) {
      replace(teamsBox, errorBox(err));
      replace(keysBox);
    }
  };
  await load();
}
