/**
 * Closing the gateway closes its upstream connection pools at once: a restart or a test teardown leaves
 * no keep-alive socket open at the provider, rather than waiting for the idle timeout.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Fakes, fakesConfig, startFakes, startGateway } from './helpers/gateway.ts';

let fakes: Fakes;
beforeAll(async () => {
  fakes = await startFakes();
});
afterAll(() => fakes.close());

it('a closed gateway has no connection left open at an OpenAI-compatible upstream', async () => {
  const gw = await startGateway(fakesConfig(fakes));
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'none', maxRetries: 0 });
  await client.chat.completions.create({ model: 'oa-model', messages: [{ role: 'user', content: 'hi' }] });
  // The pool keeps its connection for the next call…
  expect(await fakes.openai.connections()).toBe(1);
  await gw.close();
  // …and closing the gateway ends it (polled: the server learns of the close a moment later).
  for (let i = 0; i < 100 && (await fakes.openai.connections()) > 0; i++)
    await new Promise((r) => setTimeout(r, 10));
  expect(await fakes.openai.connections()).toBe(0);
});

it('a closed gateway has no connection left open at an Anthropic upstream it passed calls through to', async () => {
  const gw = await startGateway(fakesConfig(fakes));
  const res = await fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'an-model', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
  });
  expect(res.status).toBe(200);
  expect(await fakes.anthropic.connections()).toBe(1);
  await gw.close();
  for (let i = 0; i < 100 && (await fakes.anthropic.connections()) > 0; i++)
    await new Promise((r) => setTimeout(r, 10));
  expect(await fakes.anthropic.connections()).toBe(0);
});
