/**
 * The benchmark's upstream: the test suite's fake OpenAI server (0 ms latency, default short answer),
 * run as its own process so the gateway talks to it over a real socket, like a remote provider.
 *
 * Prints one JSON line `{"port": N}` on stdout once listening; exits on SIGTERM/SIGINT or when the
 * parent goes away (stdin closes).
 */
import { startFakeOpenAI } from '../test/fakes/openai.ts';

const fake = await startFakeOpenAI({ port: Number(process.env.BENCH_FAKE_PORT ?? 0) });
// Nothing reads `received` during a benchmark; clearing it keeps memory flat over long runs.
const trim = setInterval(() => {
  fake.received.length = 0;
}, 1000);
trim.unref();

process.stdout.write(`${JSON.stringify({ port: fake.port })}\n`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await fake.close();
  process.exit(0);
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
