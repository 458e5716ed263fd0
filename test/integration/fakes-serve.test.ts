/** `npm run fakes` starts the three fake upstreams and says where they are. */
import { spawn } from 'node:child_process';
import { expect, it } from 'vitest';

it('npm run fakes prints each fake and a provider block, serves requests, and stops on SIGTERM', async () => {
  const child = spawn('npm', ['run', '-s', 'fakes'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    for (let i = 0; i < 200 && !out.includes('providers:'); i++) await new Promise((r) => setTimeout(r, 50));
    const openai = /fake openai\s+(http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(out)?.[1];
    expect(openai, out).toBeDefined();
    expect(out).toMatch(/fake anthropic\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toMatch(/fake gemini\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toContain('type: anthropic');
    const res = await fetch(`${openai}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer fake' },
      body: JSON.stringify({ model: 'any', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).choices[0].message.content).toContain('hi');
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
  }
  // Stops on SIGTERM: a process that kept running would time the test out.
  await exited;
});
