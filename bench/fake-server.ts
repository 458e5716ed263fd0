/**
 * What the bench's fake upstreams (bench/fake-upstream.ts, bench/fanout-upstream.ts) share: the test
 * suite's fake OpenAI server run as its own process, so the gateway talks to it over a real socket.
 *
 * Protocol: prints one JSON line `{"port": N}` on stdout once listening; each further stdin line goes to
 * `onLine`; exits on SIGTERM/SIGINT or when the parent goes away (stdin closes).
 */
import type { FakeServer } from '../test/fakes/harness.ts';
import { startFakeOpenAI } from '../test/fakes/openai.ts';

export async function serveFake(
  options: { setup?: (fake: FakeServer) => void; onLine?: (line: string) => void } = {},
): Promise<FakeServer> {
  const fake = await startFakeOpenAI({ port: Number(process.env.BENCH_FAKE_PORT ?? 0) });
  options.setup?.(fake);
  // Nothing reads `received` during a benchmark; clearing it keeps memory flat over long runs.
  const trim = setInterval(() => {
    fake.received.length = 0;
  }, 1000);
  trim.unref();

  process.stdout.write(`${JSON.stringify({ port: fake.port })}\n`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await fake.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  let pending = '';
  process.stdin.on('data', (d: Buffer) => {
    pending += d.toString();
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      options.onLine?.(line);
    }
  });
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  return fake;
}
