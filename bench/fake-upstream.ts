/**
 * The benchmark's upstream: the test suite's fake OpenAI server (0 ms latency, default short answer),
 * run as its own process so the gateway talks to it over a real socket, like a remote provider.
 *
 * Prints one JSON line `{"port": N}` on stdout once listening; exits on SIGTERM/SIGINT or when the
 * parent goes away (stdin closes). See bench/fake-server.ts.
 */
import { serveFake } from './fake-server.ts';

await serveFake();
