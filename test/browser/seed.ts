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
