/**
 * The fan-out benchmark's upstream (bench/fanout.ts): the test suite's fake OpenAI server, run as its
 * own process, answering after a delay that depends on the requested model.
 *
 * BENCH_FANOUT_MODELS is a JSON object `{ model: { latencyMs, role } }`; role `candidate` answers
 * "The answer is 42." (a number, so consensus never needs a judge), role `judge` answers a best-of-n
 * verdict over the candidate labels it finds in the prompt. Unknown models answer at once.
 *
 * Records every request to a known model: when it was read and when the exchange ended (answer written,
 * or the client gone), as epoch ms with sub-ms precision (performance.timeOrigin + performance.now(), the
 * clock bench/fanout.ts uses too), so the bench can place each upstream call inside its client request
 * and measure the fake's own precision (end − read − nominal latency = timer lateness + writing).
 *
 * Protocol on stdin/stdout (bench/fake-server.ts): prints `{"port": N}` once listening; on the line `stats`
 * prints one JSON line with the events so far (FakeEvent[]); on `reset` clears them. Exits on SIGTERM/SIGINT
 * or when stdin closes.
 */
import { performance } from 'node:perf_hooks';
import type { ReceivedRequest } from '../test/fakes/harness.ts';
import { serveFake } from './fake-server.ts';

export interface FanoutModel {
  latencyMs: number;
  role: 'candidate' | 'judge';
}

export interface FakeEvent {
  model: string;
  /** Request read (epoch ms). */
  at: number;
  /** Answer written, or the client gone (epoch ms). */
  end: number;
  /** The client went away before the answer (a candidate no longer needed). */
  aborted: boolean;
}

const now = () => performance.timeOrigin + performance.now();

const models = JSON.parse(process.env.BENCH_FANOUT_MODELS ?? '{}') as Record<string, FanoutModel>;
let events: FakeEvent[] = [];

/** A verdict naming every candidate label in the judge's prompt (`<<<BEGIN token A>>>` lines). */
function verdict(req: ReceivedRequest): string {
  const prompt = (req.body?.messages ?? [])
    .map((m: any) => (typeof m?.content === 'string' ? m.content : ''))
    .join('\n');
  const labels = [
    ...new Set([...prompt.matchAll(/^<<<BEGIN \S+ ([A-Z]{1,2})>>>$/gm)].map((m) => m[1] as string)),
  ];
  const use = labels.length ? labels : ['A', 'B', 'C'];
  const scores = Object.fromEntries(use.map((l, i) => [l, i === 1 ? 9 : 7 - i]));
  return JSON.stringify({ scores, best: use[1] ?? use[0], rationale: 'bench verdict' });
}

await serveFake({
  setup(fake) {
    fake.respond((req) => {
      const model = String(req.body?.model ?? '');
      const spec = models[model];
      if (!spec) return {};
      const at = now();
      void req.done.then(() => {
        events.push({ model, at, end: now(), aborted: req.aborted });
      });
      return {
        latencyMs: spec.latencyMs,
        text: spec.role === 'judge' ? verdict(req) : 'The answer is 42.',
      };
    });
  },
  onLine(line) {
    if (line === 'stats') process.stdout.write(`${JSON.stringify(events)}\n`);
    else if (line === 'reset') events = [];
  },
});
