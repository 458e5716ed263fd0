/**
 * Gives a fresh demo gateway something to show, through its public API only: two teams with budgets,
 * a key each, prompts to single models and to a consensus preset, a stored workflow and a run waiting
 * at its approval.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { call } from './harness.ts';

const ROOT = resolve(import.meta.dirname, '../..');

export const HOMETOWN = readFileSync(join(ROOT, 'examples/workflows/hometown-distance.yaml'), 'utf8');

export interface Seeded {
  teams: string[];
  /** Team id → a key of that team (its secret: the tests sign in with it). */
  keys: Record<string, { id: string; key: string; name: string }>;
  /** A run of hometown-distance waiting for its approval (started with the master key). */
  waitingRun: string;
}

async function ok<T = any>(p: Promise<{ status: number; data: T }>, what: string): Promise<T> {
  const res = await p;
  if (res.status >= 300) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.data)}`);
  return res.data;
}

const chat = (model: string, content: string) => ({ model, messages: [{ role: 'user', content }] });

export async function seed(server: { url: string; masterKey: string }): Promise<Seeded> {
  const mk = server.masterKey;
  const teams = [
    {
      id: 'research',
      budget: { limit_usd: 0.25, period: 'monthly', soft_limit_usd: 0.0001 },
      limits: { rpm: 600 },
    },
    {
      id: 'support',
      budget: { limit_usd: 0.05, period: 'daily' },
      models: ['demo-fast', 'demo-mini', 'panel', 'auto'],
    },
  ];
  const keys: Seeded['keys'] = {};
  for (const t of teams) {
    await ok(call(server, mk, 'POST', '/admin/teams', t), `create team ${t.id}`);
    const k = await ok(
      call(server, mk, 'POST', '/admin/keys', { team: t.id, name: `${t.id}-app` }),
      'create key',
    );
    keys[t.id] = { id: k.id, key: k.key, name: k.name };
  }
  const prompts: [string, string, string][] = [
    ['research', 'demo-smart', 'Summarise the CAP theorem in one sentence.'],
    ['research', 'panel', 'What is 17 * 23?'],
    ['research', 'auto', 'Write a haiku about queues.'],
    ['support', 'demo-fast', 'How do I reset my password?'],
    ['support', 'demo-mini', 'What is 6 * 7?'],
  ];
  for (const [team, model, content] of prompts) {
    await ok(
      call(server, keys[team]!.key, 'POST', '/v1/chat/completions', chat(model, content)),
      `chat ${model}`,
    );
  }
  await ok(
    call(server, mk, 'POST', '/v1/chat/completions', chat('demo-fast', 'Hello from the operator')),
    'chat',
  );
  await ok(call(server, mk, 'POST', '/v1/workflows', HOMETOWN), 'store workflow');
  const run = await ok(
    call(server, mk, 'POST', '/v1/workflows/hometown-distance/runs?wait=true', {
      inputs: { a: 'Ada Lovelace', b: 'Alan Turing' },
    }),
    'start run',
  );
  return { teams: teams.map((t) => t.id), keys, waitingRun: run.id };
}

/**
 * Waits until the ledger (written in batches off the request path) has every call: the spend report
 * stops changing.
 */
export async function settledSpend(server: { url: string; masterKey: string }, query = 'group_by=team') {
  let last = '';
  for (let i = 0; i < 50; i++) {
    const res = await call(server, server.masterKey, 'GET', `/admin/spend?${query}`);
    const now = JSON.stringify(res.data);
    if (now === last && res.data.data.length > 0) return res.data;
    last = now;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the ledger did not settle');
}

export interface SeededScopes {
  /** acme: a daily (with a soft limit crossed) and a monthly window, end users, a tag; rival: a weekly one. */
  keys: { acme: { id: string; key: string; name: string }; rival: { id: string; key: string; name: string } };
  overrideId: string;
}

/**
 * Budget scopes through the admin API: team acme with a daily window (its soft limit low enough that the
 * first request crosses it) and a monthly one, an end-user and a tag budget, a key with its own daily
 * window and an override of the monthly window; team rival with a weekly budget. Then spend in every
 * scope of acme (end user alice, tag project:apollo) and rival's.
 */
export async function seedScopes(server: { url: string; masterKey: string }): Promise<SeededScopes> {
  const mk = server.masterKey;
  await ok(
    call(server, mk, 'POST', '/admin/teams', {
      id: 'acme',
      budgets: [
        { limit_usd: 1, period: 'daily', soft_limit_usd: 0.000001 },
        { limit_usd: 5, period: 'monthly' },
      ],
      end_users: { budget: { limit_usd: 0.5, period: 'daily' } },
      tags: { 'project:apollo': { budget: { limit_usd: 2, period: 'total' } } },
    }),
    'create team acme',
  );
  await ok(
    call(server, mk, 'POST', '/admin/teams', { id: 'rival', budget: { limit_usd: 3, period: 'weekly' } }),
    'create team rival',
  );
  const make = async (team: string, name: string) => {
    const k = await ok(call(server, mk, 'POST', '/admin/keys', { team, name }), `create key ${name}`);
    return { id: k.id as string, key: k.key as string, name: k.name as string };
  };
  const acme = await make('acme', 'acme-bot');
  const rival = await make('rival', 'rival-app');
  await ok(
    call(server, mk, 'PUT', `/admin/keys/${acme.id}/budgets`, {
      budgets: [{ limit_usd: 0.75, period: 'daily' }],
    }),
    'key budgets',
  );
  const override = await ok(
    call(server, mk, 'POST', '/admin/overrides', {
      scope: 'team',
      team: 'acme',
      period: 'monthly',
      limit_usd: 9,
      expires_at: '2099-01-01T00:00:00Z',
      reason: 'launch week',
    }),
    'override',
  );
  await ok(
    call(server, acme.key, 'POST', '/v1/chat/completions', {
      ...chat('demo-fast', 'Plan the launch.'),
      user: 'alice',
      quorum: { tags: { project: 'apollo' } },
    }),
    'chat acme',
  );
  await ok(call(server, rival.key, 'POST', '/v1/chat/completions', chat('demo-fast', 'Hello')), 'chat rival');
  return { keys: { acme, rival }, overrideId: override.id };
}
