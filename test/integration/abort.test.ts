/** A client that goes away costs no further tokens: its disconnect aborts the upstream call. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type Fakes,
  fakesConfig,
  PROVIDERS,
  startFakes,
  startGateway,
  type TestGateway,
} from './helpers/gateway.ts';

let fakes: Fakes;
let gw: TestGateway;

beforeAll(async () => {
  fakes = await startFakes();
  gw = await startGateway(fakesConfig(fakes));
});
afterAll(async () => {
  await gw.close();
  await fakes.close();
});
beforeEach(() => {
  for (const f of [fakes.openai, fakes.anthropic, fakes.gemini]) f.reset();
});

async function waitFor(check: () => boolean, ms = 3000) {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each(PROVIDERS)('client disconnect with a $type upstream', ({ type, model }) => {
  it('aborts a pending non-streaming call', async () => {
    const fake = fakes[type];
    fake.enqueue({ hang: true });
    const controller = new AbortController();
    const pending = fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'take your time' }] }),
      signal: controller.signal,
    }).catch((e) => e);
    await waitFor(() => fake.received.length === 1);
    controller.abort();
    await pending;
    await fake.received[0]!.done;
    expect(fake.received[0]!.aborted).toBe(true);
  });

  it('aborts a stream the client stops reading', async () => {
    const fake = fakes[type];
    const words = Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ');
    fake.enqueue({ text: words, chunkDelayMs: 20 });
    const client = gw.client();
    const stream = await client.chat.completions.create({
      model,
      stream: true,
      messages: [{ role: 'user', content: 'a long story' }],
    });
    let seen = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta?.content) seen++;
      if (seen === 3) break; // leaving the loop aborts the SDK's request
    }
    await fake.received[0]!.done;
    expect(fake.received[0]!.aborted).toBe(true);
  });
});
