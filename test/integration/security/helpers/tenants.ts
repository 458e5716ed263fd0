/**
 * The tenants of the isolation matrix: team `alpha` (static key, and one made through the admin API),
 * a team named `default` (static key), and team `beta` made through the admin API with its own key,
 * a workflow and a run waiting at an approval; the master key with a workflow and run of its own. The
 * models are set up to tempt: the forbidden ones are the best, the cheapest and the fallbacks.
 */
import { expect } from 'vitest';
import type { Fakes } from '../../helpers/gateway.ts';
import type { Backend } from '../../store/backends.ts';
import { type InProcessGateway, startInProcess } from './in-process.ts';

export const MASTER = 'sk-master-matrix-0123456789abcdef';
export const KEYS = { alpha: 'sk-alpha-0123456789abcdef', default: 'sk-default-0123456789abcdef' } as const;
export type Actor = keyof typeof KEYS;
export const ACTORS: Actor[] = ['alpha', 'default'];
/** Who attacks beta's resources: both static keys, and a key of alpha's made through the admin API. */
export const ATTACKERS: { name: string; team: Actor; key: (t: Tenants) => string }[] = [
  { name: 'alpha (static key)', team: 'alpha', key: () => KEYS.alpha },
  { name: 'alpha (admin-made key)', team: 'alpha', key: (t) => t.alphaMadeKey },
  { name: 'a team named "default" (static key)', team: 'default', key: () => KEYS.default },
];
export const ALLOWED: Record<Actor, string[]> = { alpha: ['oa-model', 'a-panel'], default: ['oa-model'] };
export const FORBIDDEN_MODELS = ['an-model', 'ge-model'];
export const SECRET_PROMPT = 'beta-secret-prompt-7f3a';

const model = (id: string, provider: string, upstream: string, price: number, quality: number) => ({
  id,
  provider,
  upstream,
  context_window: 128_000,
  max_output_tokens: 4096,
  price: { input: price, output: price * 2 },
  capabilities: ['tools', 'vision', 'json', 'streaming'],
  quality: { general: quality, code: quality, math: quality, reasoning: quality, writing: quality },
  aliases: [`${id.split('-')[0]}-alias`],
});

/**
 * The forbidden models are the tempting ones: `an-model` is the best (auto:quality), `ge-model` the
 * cheapest (auto:cost), and both are in `oa-model`'s configured fallback chain.
 */
function tenantsConfig(fakes: Fakes): Record<string, unknown> {
  const provider = (id: string, type: string, url: string) => ({
    id,
    type,
    base_url: url,
    api_key: `sk-upstream-${id}-secret`,
    max_retries: 0,
  });
  return {
    providers: [
      provider('oa', 'openai', `${fakes.openai.url}/v1`),
      provider('an', 'anthropic', fakes.anthropic.url),
      provider('ge', 'gemini', fakes.gemini.url),
    ],
    models: [
      model('oa-model', 'oa', 'gpt-up', 1, 0.6),
      model('an-model', 'an', 'claude-up', 3, 0.95),
      model('ge-model', 'ge', 'gemini-up', 0.1, 0.5),
    ],
    routing: { policy: 'balanced', fallbacks: { 'oa-model': ['an-model', 'ge-model'] } },
    ensembles: {
      'a-panel': { strategy: 'best_of_n', models: ['oa-model', 'oa-model'], judge: 'oa-model' },
      panel: { strategy: 'consensus', models: ['an-model', 'ge-model'], judge: 'an-model' },
    },
    teams: [
      { id: 'alpha', models: ALLOWED.alpha, budget: { limit_usd: 5, period: 'monthly' } },
      { id: 'default', models: ALLOWED.default, budget: { limit_usd: 3, period: 'monthly' } },
    ],
    keys: [
      { key: KEYS.alpha, team: 'alpha', name: 'alpha-static' },
      { key: KEYS.default, team: 'default', name: 'default-static' },
    ],
  };
}

/** A reply every fake gives, readable as a review, a judge's score and a plain answer alike. */
const ANSWER = '{"verdict":"accept","score":9,"issues":[]}';

export interface Tenants {
  gw: InProcessGateway;
  alphaMadeKey: string;
  /** A workflow and a waiting run the master key made for itself. */
  operatorWorkflow: string;
  operatorRun: string;
  betaKey: string;
  betaKeyId: string;
  betaWorkflow: string;
  betaRun: string;
  /** The Idempotency-Key beta started its current run with. */
  betaIdempotencyKey: string;
  /** A response beta stored (`POST /v1/responses`), its input the secret prompt. */
  betaResponse: string;
}

/** The gateway, and beta with its key, its workflow and a run of it waiting at an approval. */
export async function startTenants(backend?: Backend): Promise<Tenants> {
  const target = await backend?.fresh();
  const gw = await startInProcess(tenantsConfig, {
    masterKey: MASTER,
    ...(target ? { openStore: () => target.open() } : {}),
  });
  answerNormally(gw);
  const team = await gw.call('POST', '/admin/teams', {
    key: MASTER,
    json: {
      id: 'beta',
      models: ['an-model', 'ge-model', 'panel'],
      budget: { limit_usd: 7, period: 'monthly' },
    },
  });
  expect(team.status, team.text).toBe(201);
  const key = await gw.call('POST', '/admin/keys', {
    key: MASTER,
    json: { team: 'beta', name: 'beta-admin-made' },
  });
  expect(key.status, key.text).toBe(201);
  const betaKey = key.json.key as string;
  const wf = await gw.call('POST', '/v1/workflows', {
    key: betaKey,
    json: {
      name: 'beta-flow',
      steps: {
        draft: { prompt: SECRET_PROMPT, model: 'an-model', max_tokens: 5 },
        check: { type: 'approval', needs: ['draft'] },
        final: {
          needs: ['check'],
          prompt: 'Polish {{ steps.draft.output }}',
          model: 'an-model',
          max_tokens: 5,
        },
      },
    },
  });
  expect(wf.status, wf.text).toBe(201);
  const response = await gw.call('POST', '/v1/responses', {
    key: betaKey,
    json: { model: 'an-model', input: SECRET_PROMPT, max_output_tokens: 5 },
  });
  expect(response.status, response.text).toBe(200);
  const alphaKey = await gw.call('POST', '/admin/keys', {
    key: MASTER,
    json: { team: 'alpha', name: 'alpha-admin-made' },
  });
  expect(alphaKey.status, alphaKey.text).toBe(201);
  const ops = await gw.call('POST', '/v1/workflows', {
    key: MASTER,
    json: {
      name: 'operator-flow',
      steps: {
        gate: { type: 'approval' },
        after: { needs: ['gate'], prompt: SECRET_PROMPT, model: 'oa-model' },
      },
    },
  });
  expect(ops.status, ops.text).toBe(201);
  const opsRun = await gw.call('POST', `/v1/workflows/${ops.json.id}/runs?wait=true`, {
    key: MASTER,
    json: {},
  });
  expect(opsRun.json?.status, opsRun.text).toBe('waiting');
  const t: Tenants = {
    gw,
    alphaMadeKey: alphaKey.json.key,
    operatorWorkflow: ops.json.id,
    operatorRun: opsRun.json.id,
    betaKey,
    betaKeyId: key.json.id,
    betaWorkflow: wf.json.id,
    betaRun: '',
    betaIdempotencyKey: '',
    betaResponse: response.json.id,
  };
  await freshBetaRun(t);
  return t;
}

/** Beta starts a new run of its workflow, which waits at the approval; each row attacks its own. */
export async function freshBetaRun(t: Tenants) {
  t.betaIdempotencyKey = `beta-run-${Math.random().toString(36).slice(2)}`;
  const run = await t.gw.call('POST', `/v1/workflows/${t.betaWorkflow}/runs?wait=true`, {
    key: t.betaKey,
    json: {},
    headers: { 'idempotency-key': t.betaIdempotencyKey },
  });
  expect(run.json?.status, run.text).toBe('waiting');
  t.betaRun = run.json.id;
}

export function answerNormally(gw: InProcessGateway) {
  for (const fake of [gw.fakes.openai, gw.fakes.anthropic, gw.fakes.gemini]) {
    fake.reset();
    fake.respond({ text: ANSWER });
  }
}

/** Everything beta can see of itself, and what the operator sees of beta; volatile fields dropped. */
export async function betaView(t: Tenants) {
  const asBeta = (path: string) => t.gw.call('GET', path, { key: t.betaKey });
  const asMaster = (path: string) => t.gw.call('GET', path, { key: MASTER });
  const reads = {
    workflows: await asBeta('/v1/workflows?versions=all'),
    workflow: await asBeta(`/v1/workflows/${t.betaWorkflow}`),
    run: await asBeta(`/v1/runs/${t.betaRun}`),
    response: await asBeta(`/v1/responses/${t.betaResponse}`),
    responseItems: await asBeta(`/v1/responses/${t.betaResponse}/input_items`),
    budget: await asBeta('/v1/budget'),
    team: await asMaster('/admin/teams/beta'),
    keys: await asMaster('/admin/keys?team=beta'),
    spend: await asMaster('/admin/spend?team=beta'),
  };
  return JSON.parse(
    JSON.stringify(
      Object.fromEntries(
        Object.entries(reads).map(([name, r]) => [name, { status: r.status, body: r.json }]),
      ),
    ),
    (k, v) => (/^(last_used_at|updated_at_ms)$/.test(k) ? undefined : v),
  );
}
