/**
 * The newcomer's path: `quorum serve` with no config and no keys answers from the demo provider, says
 * so in its startup log, and shuts down cleanly on SIGTERM.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServeProcess, spawnServe } from './helpers/serve.ts';

let server: ServeProcess;
let url = '';
const cwd = mkdtempSync(join(tmpdir(), 'quorum-demo-'));

beforeAll(async () => {
  // A clean environment: no provider keys, no config file in the working directory.
  server = await spawnServe([], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, QUORUM_LOG_LEVEL: 'info' },
  });
  url = server.url;
});

afterAll(async () => {
  await server.stop('SIGKILL');
  rmSync(cwd, { recursive: true, force: true });
});

describe('quorum serve with no configuration', () => {
  it('announces the demo provider and the open access in its startup log', () => {
    expect(server.output()).toMatch(/serving the built-in deterministic demo provider/);
    expect(server.output()).toMatch(/no keys and no QUORUM_MASTER_KEY/);
  });

  it('answers the OpenAI SDK from the demo provider, deterministically', async () => {
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'anything', maxRetries: 0 });
    const ask = () =>
      client.chat.completions.create({
        model: 'demo',
        messages: [{ role: 'user', content: 'What is 6 * 7?' }],
      });
    const [a, b] = [await ask(), await ask()];
    expect(a.choices[0]!.message.content).toBe('The answer is 42.');
    expect(b.choices[0]!.message.content).toBe(a.choices[0]!.message.content);
    expect(a.model).toBe('demo-fast');
    expect(a.usage!.total_tokens).toBeGreaterThan(0);
  });

  it('streams from the demo provider', async () => {
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'anything', maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: 'demo-smart',
      stream: true,
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toContain('demo-smart');
  });

  it('lists the demo models', async () => {
    const res = await fetch(`${url}/v1/models`);
    const ids = ((await res.json()) as any).data.map((m: { id: string }) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['demo-fast', 'demo-smart', 'demo']));
  });

  it('a catalog name answers 404 saying which key would serve it and what the demo serves instead', async () => {
    const ask = (model: string) =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
      });
    const catalog = await ask('claude-sonnet');
    expect(catalog.status).toBe(404);
    const { error } = (await catalog.json()) as any;
    expect(error).toMatchObject({ code: 'model_not_found', param: 'model' });
    expect(error.message).toMatch(/no anthropic provider is configured: set ANTHROPIC_API_KEY/);
    expect(error.message).toMatch(
      /Served here: demo-fast, demo-smart, demo-mini, demo-embed; presets: panel, best/,
    );
    const unknown = (await (await ask('no-such-model')).json()) as any;
    expect(unknown.error.message).toMatch(
      /^The model `no-such-model` does not exist\. Served here: demo-fast/,
    );
    expect(unknown.error.message).not.toMatch(/_API_KEY/);
  });

  it('drains and exits 0 on SIGTERM, and /readyz no longer answers', async () => {
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(server.output()).toMatch(/SIGTERM received/);
    await expect(fetch(`${url}/readyz`)).rejects.toThrow();
  });
});
