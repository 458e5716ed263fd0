/**
 * What the learning suites share: one provider per fake, models of a given quality in every category,
 * and a small client for the calls the suites make (chat, feedback, the learnt quality of a model).
 */
import { expect } from 'vitest';
import type { Fakes, TestGateway } from '../helpers/gateway.ts';

/** The same quality in every category. */
export const quality = (q: number) => ({ general: q, code: q, math: q, reasoning: q, writing: q });

/** A model on one of the fakes' providers (`oa`, `an`, `ge`), priced alike so only quality differs. */
export function model(
  id: string,
  provider: 'oa' | 'an' | 'ge',
  q: number | Record<string, number>,
  caps?: string[],
) {
  return {
    id,
    provider,
    context_window: 100_000,
    max_output_tokens: 4_096,
    price: { input: 1, output: 2 },
    capabilities: caps ?? ['json', 'streaming'],
    quality: typeof q === 'number' ? quality(q) : q,
  };
}

/** `oa`, `an` and `ge`: one provider per fake, no retries. */
export function providers(f: Fakes) {
  return [
    { id: 'oa', type: 'openai', base_url: `${f.openai.url}/v1`, api_key: 'k', max_retries: 0 },
    { id: 'an', type: 'anthropic', base_url: f.anthropic.url, api_key: 'k', max_retries: 0 },
    { id: 'ge', type: 'gemini', base_url: f.gemini.url, api_key: 'k', max_retries: 0 },
  ];
}

export const GREETING = [{ role: 'user', content: 'hi there, how are you?' }];

/** Calls to a gateway, with `key` (when given) on each. */
export function client(gw: TestGateway, key?: string) {
  const call = async (method: string, path: string, body?: unknown, as = key) => {
    const res = await fetch(`${gw.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(as ? { authorization: `Bearer ${as}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, headers: res.headers, json: (await res.json()) as any };
  };
  return {
    call,
    post: (path: string, body: unknown, as = key) => call('POST', path, body, as),
    /** An answer of `name` (a model or `auto:quality`) and its request id. */
    async ask(name = 'auto:quality', messages: unknown = GREETING, as = key) {
      const res = await call('POST', '/v1/chat/completions', { model: name, messages }, as);
      expect(res.status).toBe(200);
      return { model: res.json.model as string, id: res.headers.get('x-quorum-request-id')! };
    },
    feedback: (request_id: string, score: number, as = key) =>
      call('POST', '/v1/feedback', { request_id, score }, as),
    /** A model's `quorum.learned_quality` in `GET /v1/models`. */
    async learnt(name: string, as = key) {
      const list = await call('GET', '/v1/models', undefined, as);
      return list.json.data.find((m: any) => m.id === name).quorum.learned_quality;
    },
  };
}
