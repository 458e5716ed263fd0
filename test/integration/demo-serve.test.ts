/**
 * The newcomer's path: `quorum serve` with no config and no keys answers from the demo provider, says
 * so in its startup log, and shuts down cleanly on SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
let child: ChildProcess;
let output = '';
let url = '';
const cwd = mkdtempSync(join(tmpdir(), 'quorum-demo-'));

beforeAll(async () => {
  // A clean environment: no provider keys, no config file in the working directory.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, QUORUM_LOG_LEVEL: 'info' };
  child = spawn(process.execPath, [join(ROOT, 'src/cli/main.ts'), 'serve', '--port', '0'], { cwd, env });
  child.stdout!.on('data', (d) => {
    output += d;
  });
  child.stderr!.on('data', (d) => {
    output += d;
  });
  url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 15_000);
    child.stdout!.on('data', () => {
      const match = /Quorum listening on (http:\/\/[\d.]+:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]!);
      }
    });
  });
});

afterAll(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(cwd, { recursive: true, force: true });
});

describe('quorum serve with no configuration', () => {
  it('announces the demo provider and the open access in its startup log', () => {
    expect(output).toMatch(/serving the built-in deterministic demo provider/);
    expect(output).toMatch(/no keys and no QUORUM_MASTER_KEY/);
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

  it('drains and exits 0 on SIGTERM, and /readyz no longer answers', async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toMatch(/SIGTERM received/);
    await expect(fetch(`${url}/readyz`)).rejects.toThrow();
  });
});
