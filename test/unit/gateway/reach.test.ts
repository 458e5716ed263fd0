/**
 * The authorization decision on its own: which models each kind of request can reach for a given
 * team, what it refuses (and which field it names), and that the budget hold is priced on exactly
 * that reach. A real gateway over a real config file; nothing is called upstream.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { analyzeTask } from '../../../routing/analyze.ts';
import type { ChatRequest } from '../../../src/chat/index.ts';
import { loadConfig } from '../../../src/config/index.ts';
import {
  authorizeChat,
  authorizeReview,
  type Caller,
  Gateway,
  maxCost,
  OPEN_CALLER,
} from '../../../src/gateway/index.ts';
import { callerFor } from '../../../src/server/auth.ts';

const model = (id: string, price: number, quality: number, aliases: string[] = []) => ({
  id,
  provider: 'up',
  context_window: 100_000,
  max_output_tokens: 1000,
  price: { input: price, output: price },
  capabilities: ['streaming'],
  quality: { general: quality, code: quality, math: quality, reasoning: quality, writing: quality },
  aliases,
});

const CONFIG = {
  providers: [{ id: 'up', type: 'openai', base_url: 'http://127.0.0.1:9/v1', api_key: 'k', max_retries: 0 }],
  models: [
    model('a', 1, 0.5, ['a-alias']),
    model('b', 1, 0.5),
    model('c', 1, 0.5),
    model('dear', 1000, 0.99),
  ],
  routing: { fallbacks: { a: ['dear', 'b'], b: ['dear'], c: ['dear'] } },
  ensembles: { panel: { strategy: 'best_of_n', models: ['a', 'b'], judge: 'c' } },
};

let dir: string;
let gw: Gateway;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'quorum-reach-'));
  writeFileSync(join(dir, 'quorum.yaml'), stringify(CONFIG));
  gw = await Gateway.create(loadConfig({ path: join(dir, 'quorum.yaml'), env: {} }));
});

afterAll(async () => {
  await gw.close();
  rmSync(dir, { recursive: true, force: true });
});

const team = (models: string[] | null, name = 'team'): Caller =>
  callerFor(name, models ? { models } : undefined, { id: null, name: null });

const chat = (model: string, quorum?: ChatRequest['quorum']): ChatRequest =>
  ({
    model,
    messages: [{ role: 'user', content: 'hi' }],
    max_tokens: 10,
    ...(quorum ? { quorum } : {}),
  }) as ChatRequest;

const reached = (caller: Caller, request: ChatRequest) =>
  [...authorizeChat(gw, caller, request).reach.models()].sort();

function refusal(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    const e = err as { status: number; code: string; param: string | null };
    return { status: e.status, code: e.code, param: e.param };
  }
  throw new Error('expected a refusal');
}

describe('a single model', () => {
  it('reaches its own deployments and only the fallbacks on the list', () => {
    expect(reached(team(['a', 'b']), chat('a'))).toEqual(['a', 'b']);
    expect(reached(team(['a-alias']), chat('a-alias'))).toEqual(['a']);
    expect(reached(OPEN_CALLER, chat('a'))).toEqual(['a', 'b', 'dear']);
  });

  it('auto picks inside the list, however good the model outside it', () => {
    const decision = authorizeChat(gw, team(['b', 'c']), chat('auto:quality'));
    expect([...decision.reach.models()].every((m) => m === 'b' || m === 'c')).toBe(true);
  });

  it('a team called `default` is just a team', () => {
    expect(refusal(() => authorizeChat(gw, team(['a'], 'default'), chat('dear')))).toMatchObject({
      status: 403,
      code: 'model_not_allowed',
    });
  });
});

describe('a preset', () => {
  it('brings its configured members and judge, but not their fallbacks off the list', () => {
    expect(reached(team(['panel']), chat('panel'))).toEqual(['a', 'b', 'c']);
    expect(reached(OPEN_CALLER, chat('panel'))).toEqual(['a', 'b', 'c', 'dear']);
  });

  it('is refused when the team may not use it', () => {
    expect(refusal(() => authorizeChat(gw, team(['a']), chat('panel')))).toEqual({
      status: 403,
      code: 'model_not_allowed',
      param: 'model',
    });
  });

  it('takes inline members and judges only when the team may use each itself', () => {
    const members = { ensemble: { strategy: 'best_of_n' as const, models: ['a', 'dear'] } };
    expect(refusal(() => authorizeChat(gw, team(['panel', 'a']), chat('panel', members)))).toEqual({
      status: 403,
      code: 'model_not_allowed',
      param: 'quorum.ensemble.models[1]',
    });
    const judge = { ensemble: { strategy: 'best_of_n' as const, judge: 'dear' } };
    expect(refusal(() => authorizeChat(gw, team(['panel']), chat('panel', judge)))).toMatchObject({
      param: 'quorum.ensemble.judge',
    });
    // an allowed override replaces the members; the preset's own judge stays authorised by the preset
    const allowed = { ensemble: { strategy: 'best_of_n' as const, models: ['a'] } };
    expect(reached(team(['panel', 'a']), chat('panel', allowed))).toEqual(['a', 'c']);
  });
});

describe('an inline ensemble', () => {
  it('needs every member and the judge on the list, and says which one is not', () => {
    const ensemble = { strategy: 'best_of_n' as const, models: ['a', 'b'], judge: 'dear' };
    expect(refusal(() => authorizeChat(gw, team(['a', 'b']), chat('a', { ensemble })))).toEqual({
      status: 403,
      code: 'model_not_allowed',
      param: 'quorum.ensemble.judge',
    });
  });

  it('honours quorum.fallbacks for its members: [] reaches the members alone', () => {
    const ensemble = { strategy: 'consensus' as const, models: ['b', 'c'] };
    expect(reached(OPEN_CALLER, chat('b', { ensemble }))).toEqual(['b', 'c', 'dear']);
    expect(reached(OPEN_CALLER, chat('b', { ensemble, fallbacks: [] }))).toEqual(['b', 'c']);
  });
});

describe('the budget hold is priced on the reach', () => {
  it('a member that may fall back to a dearer model reserves the dearer price', () => {
    const ensemble = { strategy: 'consensus' as const, models: ['b', 'c'] };
    const price = (caller: Caller, request: ChatRequest) => {
      const d = authorizeChat(gw, caller, request);
      if (d.kind !== 'fanout') throw new Error('expected a fan-out');
      return maxCost(d.plan, analyzeTask(request), d.reach);
    };
    const withFallback = price(OPEN_CALLER, chat('b', { ensemble }));
    const without = price(OPEN_CALLER, chat('b', { ensemble, fallbacks: [] }));
    const listed = price(team(['b', 'c']), chat('b', { ensemble }));
    // 10 output tokens (max_tokens) plus the prompt, at $1000 instead of $1 per million, twice.
    expect(withFallback).toBeGreaterThan((2 * (10 * 1000)) / 1e6);
    expect(withFallback).toBeGreaterThan(500 * without);
    expect(listed).toBe(without);
  });
});

describe('a self-ensemble', () => {
  const plan = (request: ChatRequest) => {
    const d = authorizeChat(gw, OPEN_CALLER, request);
    if (d.kind !== 'fanout') throw new Error('expected a fan-out');
    return d.plan;
  };

  it('is one candidate per sample, each with its temperature, and the hold counts each', () => {
    const price = (ensemble: Record<string, unknown>) => {
      const request = chat('b', { ensemble, fallbacks: [] } as never);
      const d = authorizeChat(gw, OPEN_CALLER, request);
      if (d.kind !== 'fanout') throw new Error('expected a fan-out');
      return { plan: d.plan, usd: maxCost(d.plan, analyzeTask(request), d.reach) };
    };
    const sampled = price({ strategy: 'consensus', models: [{ model: 'b', temperatures: [0.2, 0.9] }, 'c'] });
    expect(sampled.plan.models).toEqual(['b', 'b', 'c']);
    expect(sampled.plan.temperatures).toEqual([0.2, 0.9, undefined]);
    // b and c cost the same: three candidates hold half as much again as two.
    expect(sampled.usd).toBeCloseTo(1.5 * price({ strategy: 'consensus', models: ['b', 'c'] }).usd, 12);
  });

  it('inline samples apply to a preset’s members; the preset’s members stay authorised by it', () => {
    const p = plan(chat('panel', { ensemble: { strategy: 'best_of_n', samples: 2 } }));
    expect(p.models).toEqual(['a', 'a', 'b', 'b']);
    expect(p.named.every((n) => n.preset || n.model === 'c')).toBe(true);
  });

  it('refuses samples its temperatures do not match, naming the member', () => {
    const ensemble = {
      strategy: 'consensus' as const,
      models: [{ model: 'b', samples: 3 }],
      temperatures: [0.1, 0.2],
    };
    expect(refusal(() => authorizeChat(gw, OPEN_CALLER, chat('b', { ensemble })))).toEqual({
      status: 400,
      code: 'invalid_body',
      param: 'quorum.ensemble.models[0].samples',
    });
  });

  it('a fusion names its synthesizer, which must be reachable like the judge', () => {
    const ensemble = { strategy: 'fusion' as const, models: ['b'], judge: 'c', synthesizer: 'nope' };
    expect(refusal(() => authorizeChat(gw, OPEN_CALLER, chat('b', { ensemble })))).toMatchObject({
      status: 404,
      param: 'quorum.ensemble.synthesizer',
    });
    expect(
      refusal(() =>
        authorizeChat(gw, team(['b', 'c']), chat('b', { ensemble: { ...ensemble, synthesizer: 'a' } })),
      ),
    ).toMatchObject({
      status: 403,
      param: 'quorum.ensemble.synthesizer',
    });
  });
});

describe('names from Object.prototype', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])(
    '%s is an unknown model, not a preset',
    (name) => {
      expect(refusal(() => authorizeChat(gw, OPEN_CALLER, chat(name)))).toEqual({
        status: 404,
        code: 'model_not_found',
        param: 'model',
      });
    },
  );
});

describe('a review', () => {
  it('names the reviewer or author the team may not use', () => {
    expect(refusal(() => authorizeReview(gw, team(['a']), { reviewers: ['a', 'dear'] }))).toMatchObject({
      status: 403,
      param: 'reviewers[1]',
    });
    expect(
      refusal(() => authorizeReview(gw, team(['a']), { reviewers: ['a'], author: 'dear' })),
    ).toMatchObject({ status: 403, param: 'author' });
  });

  it("reaches its models' fallbacks only when listed", () => {
    expect(
      [...authorizeReview(gw, team(['a', 'b']), { reviewers: ['a'], author: 'b' }).models()].sort(),
    ).toEqual(['a', 'b']);
  });
});
