import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../../../src/store/index.ts';
import { parseDefinition, type WorkflowDefinitionInput } from '../../../../src/workflows/definition/index.ts';
import type {
  ReviewVerdict,
  RunnerRequest,
  RunnerResult,
  StepRunner,
} from '../../../../src/workflows/engine/index.ts';
import { Engine, type EngineOptions } from '../../../../src/workflows/engine/index.ts';
import type { RunEvent } from '../../../../src/workflows/state.ts';

/** A real SQLite store in a temp dir. */
export async function tempStore(): Promise<{ store: Store; path: string; cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'quorum-engine-'));
  const path = join(dir, 'quorum.db');
  const store = await openStore('sqlite:' + path);
  return {
    store,
    path,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Stores a definition (parsed first, as the API does) and returns its id. */
export async function saveWorkflow(store: Store, input: WorkflowDefinitionInput): Promise<string> {
  const parsed = parseDefinition(input);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const record = await store.workflows.createWorkflow({
    team: 'default',
    name: parsed.definition.name,
    definition: parsed.definition,
  });
  return record.id;
}

export interface Reply {
  text?: string;
  cost?: number;
  /** Milliseconds before the reply (the call rejects at once if its signal aborts meanwhile). */
  delay?: number;
  error?: string;
  verdict?: ReviewVerdict;
  /** Never settles and ignores its signal: a process that died mid-call. */
  hang?: boolean;
}

export interface Call {
  request: RunnerRequest;
  /** Per (step, kind): 1 for the first call. */
  n: number;
  start: number;
  end?: number;
  signal: AbortSignal;
  outcome?: 'ok' | 'error' | 'aborted';
}

export type Script = (request: RunnerRequest, n: number) => Reply | string;

/** A scripted runner that records every call with its timing and signal. */
export class FakeRunner implements StepRunner {
  readonly calls: Call[] = [];
  script: Script;
  constructor(script: Script) {
    this.script = script;
  }

  async complete(request: RunnerRequest, signal: AbortSignal): Promise<RunnerResult> {
    const n =
      this.calls.filter((c) => c.request.step === request.step && c.request.kind === request.kind).length + 1;
    const call: Call = { request, n, start: performance.now(), signal };
    this.calls.push(call);
    const raw = this.script(request, n);
    const reply: Reply = typeof raw === 'string' ? { text: raw } : raw;
    if (reply.hang) return new Promise(() => {});
    try {
      await new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        const timer = setTimeout(resolve, reply.delay ?? 0);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(signal.reason);
        });
      });
    } catch (err) {
      call.outcome = 'aborted';
      call.end = performance.now();
      throw err;
    }
    call.end = performance.now();
    if (reply.error !== undefined) {
      call.outcome = 'error';
      throw new Error(reply.error);
    }
    call.outcome = 'ok';
    return {
      text: reply.text ?? '',
      cost_usd: reply.cost ?? 0,
      ...(reply.verdict && { verdict: reply.verdict }),
    };
  }

  /** Calls of one step (of one kind, default the step's own calls: not judge calls). */
  of(step: string, kind?: RunnerRequest['kind']): Call[] {
    return this.calls.filter(
      (c) => c.request.step === step && (kind ? c.request.kind === kind : c.request.kind !== 'judge'),
    );
  }

  /** The user message of a call. */
  static prompt(call: Call): string {
    return call.request.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
  }
}

/** An engine over `store` collecting its events. */
export function makeEngine(store: Store, runner: StepRunner, options: Partial<EngineOptions> = {}) {
  const events: RunEvent[] = [];
  const errors: unknown[] = [];
  const engine = new Engine({
    store,
    runner,
    onEvent: (e) => events.push(e),
    onError: (err) => errors.push(err),
    ...options,
  });
  return { engine, events, errors };
}

/** Asserts a run's stored events are numbered 1..n without gaps. */
export async function storedEvents(store: Store, runId: string): Promise<RunEvent[]> {
  const events = await store.workflows.events(runId);
  events.forEach((e, i) => {
    if (e.seq !== i + 1) throw new Error(`event ${i} has seq ${e.seq}`);
  });
  return events;
}

export const hometown: WorkflowDefinitionInput = {
  name: 'hometown-distance',
  inputs: { a: { type: 'string' }, b: { type: 'string' } },
  steps: {
    town_a: { prompt: 'Home town of {{ inputs.a }}? Reply with the town only.', model: 'auto' },
    town_b: { prompt: 'Home town of {{ inputs.b }}? Reply with the town only.', model: 'auto' },
    distance: {
      needs: ['town_a', 'town_b'],
      prompt: 'Distance in km between {{ steps.town_a.output }} and {{ steps.town_b.output }}?',
    },
    check: { type: 'approval', needs: ['distance'] },
  },
  outputs: { km: '{{ steps.distance.output }}' },
};

/** Waits until `predicate` holds (polling; for tests only). */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}
