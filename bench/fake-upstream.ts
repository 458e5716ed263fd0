/**
 * The benchmark's upstream: the test suite's fake OpenAI server (0 ms latency, default short answer),
 * run as its own process so the gateway talks to it over a real socket, like a remote provider. A
 * request whose `user` is `bench-paced` is streamed as live models stream: each chunk 2 ms after the one
 * before (bench/instructions.ts --body paced), where every other answer's chunks leave in one write.
 *
 * Prints one JSON line `{"port": N}` on stdout once listening; exits on SIGTERM/SIGINT or when the
 * parent goes away (stdin closes). See bench/fake-server.ts.
 */
import { serveFake } from './fake-server.ts';
import { PACED_USER } from './request.ts';

await serveFake({
  setup: (fake) => fake.respond((req) => (req.body?.user === PACED_USER ? { chunkDelayMs: 2 } : {})),
});
