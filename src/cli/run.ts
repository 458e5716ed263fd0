/**
 * `quorum run <workflow>`: runs a workflow definition with live per-step progress on stderr and the
 * outputs on stdout. Embedded by default (the gateway, the engine and the store in this process, on the
 * gateway's database), or through the HTTP API of a running gateway with `--server`.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { isDeepStrictEqual } from 'node:util';
import { BootError, type Booted, boot } from '../boot/index.ts';
import { ConfigError, type GatewayConfig } from '../config/index.ts';
import { STATIC_KEY_PREFIX } from '../gateway/index.ts';
import { runView } from '../server/routes/workflows/runs.ts';
import { databaseUrlFrom } from '../store/database-url.ts';
import type { Store } from '../store/index.ts';
import { createLogger } from '../telemetry/index.ts';
import { resolveInputs, type WorkflowDefinition } from '../workflows/definition/index.ts';
import { type Engine, EngineError } from '../workflows/engine/index.ts';
import { storeCallerResolver } from '../workflows/gateway-runner.ts';
import type { RunEvent } from '../workflows/state.ts';
import { stepModelProblems } from '../workflows/step-models.ts';
import { parseOr, usage } from './args.ts';
import { readWorkflowFile } from './graph.ts';
import {
  ApiError,
  createClient,
  FINISHED,
  keyFrom,
  sseFrames,
  streamEvent,
  TERMINAL_EVENTS,
} from './server-client.ts';
import { DEFAULT_DATABASE_URL } from './store.ts';

export const RUN_HELP = `quorum run — run a workflow, with live per-step progress

Usage: quorum run <workflow.yaml|json> [--input <name>=<value>]... [options]

Options:
  --input <name>=<value>  a run input (repeat for each); numbers, booleans and JSON objects/arrays are
                          read from the text when the input's type asks for them
  --config <file>         configuration file (default: $QUORUM_CONFIG, else config/quorum.yaml if it exists)
  --database <url>        the database to keep the run in (default: $QUORUM_DATABASE_URL, else
                          ${DEFAULT_DATABASE_URL})
  --server <url>          run on a running gateway through its HTTP API instead of in this process
  --key <key>             the API key to run as: with --server sent as the bearer token (default:
                          $QUORUM_KEY, else $QUORUM_API_KEY); embedded, the run is charged to the
                          key's team
  --json                  print the whole run (as GET /v1/runs/:id returns it) instead of the outputs
  -h, --help              show this help

The definition is validated first (one line per problem, with its path). Each step's progress is printed
on stderr as it happens, the outputs as JSON on stdout:

  quorum run examples/workflows/hometown-distance.yaml --input a="Ada Lovelace" --input b="Alan Turing"
  quorum run plan.yaml --input n=3 --server http://localhost:8080 --key qk-…

When an approval step is reached, a terminal shows its description and the output of the steps it
waits on, then asks "approve <step>? [y/N]"; otherwise the command prints
how to approve the run through the API and exits with 3, leaving the run waiting (a gateway on the same
database resumes it).

Exit codes: 0 succeeded, 1 the run failed (or was cancelled, or the gateway could not be reached),
2 usage, configuration, definition or input errors, 3 waiting for an approval.
`;

const out = (text: string) => process.stdout.write(text);
const err = (text: string) => process.stderr.write(text);

/** How the command talks to a person; replaceable in tests. */
export interface RunIo {
  /** Whether approvals may be asked on the terminal (default: stdin is a TTY). */
  interactive?: boolean;
  /** Asks a question and returns the answer (default: readline on stdin/stderr). */
  ask?: (question: string) => Promise<string | null>;
}

/** A run event as the progress printer needs it (the engine's, or one read from the SSE stream). */
interface ProgressEvent {
  type: string;
  run_id?: string | undefined;
  step?: string | undefined;
  data?: Record<string, unknown> | undefined;
  at: number;
}

/** A cost as the CLI prints it. */
export const usd = (n: unknown) => `$${(typeof n === 'number' ? n : 0).toFixed(6)}`;
const seconds = (ms: number) => `${(Math.max(0, ms) / 1000).toFixed(1)} s`;

/** Turns run events into one line of progress each (null for events not worth a line). */
export class Progress {
  readonly #started = new Map<string, number>();
  readonly #label: string;

  /** `label`: what is run, e.g. `hometown-distance v2`. */
  constructor(label: string) {
    this.#label = label;
  }

  line(e: ProgressEvent): string | null {
    const step = e.step ?? '?';
    const data = e.data ?? {};
    switch (e.type) {
      case 'run.started':
        return `run ${e.run_id ?? ''} of ${this.#label} started`;
      case 'step.started':
        this.#started.set(step, e.at);
        return `▶ ${step} started`;
      case 'step.succeeded': {
        if (data.approved === true) return `✓ ${step} approved`;
        const parts = [seconds(e.at - (this.#started.get(step) ?? e.at)), usd(data.cost_usd)];
        if (typeof data.attempts === 'number' && data.attempts > 1) parts.push(`${data.attempts} attempts`);
        if (typeof data.iterations === 'number' && data.iterations > 1) {
          parts.push(`${data.iterations} iterations`);
        }
        if (typeof data.score === 'number') parts.push(`score ${data.score}`);
        if (data.exhausted === true) parts.push('best draft, min_score not reached');
        let text = `✓ ${step} (${parts.join(', ')})`;
        if (typeof data.back_to === 'string') {
          text += `\n↩ back to ${data.back_to} (loop ${data.loop})${data.feedback ? `: ${data.feedback}` : ''}`;
        }
        return text;
      }
      case 'step.failed':
        return `✗ ${step} failed: ${data.error ?? 'unknown error'}`;
      case 'step.waiting':
        return `⏸ ${step} waiting for approval`;
      case 'step.edited':
        return `✎ ${step} edited by a person`;
      case 'step.iteration':
        return `↻ ${step} iteration ${data.iteration}: score ${data.score}${data.critique ? ` — ${data.critique}` : ''}`;
      case 'run.failed':
        return `✗ run failed: ${data.error ?? 'unknown error'}`;
      case 'run.cancelled':
        return '✗ run cancelled';
      default:
        return null;
    }
  }
}

/** `--input a=1 --input b=x` → `{a: '1', b: 'x'}`; a string naming the bad one when malformed. */
function inputPairs(pairs: string[]): Record<string, string> | string {
  const given: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) return `--input takes <name>=<value>, got "${pair}"`;
    given[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return given;
}

/** The run view the API returns (steps, outputs, cost, status…), as printed at the end. */
type RunView = ReturnType<typeof runView>;

function finish(run: RunView, json: boolean, waitingHint?: string): number {
  if (json) out(`${JSON.stringify(run, null, 2)}\n`);
  if (run.status === 'succeeded') {
    err(`✓ run ${run.id} succeeded (${usd(run.cost_usd)})\n`);
    if (!json) out(`${JSON.stringify(run.outputs ?? {}, null, 2)}\n`);
    return 0;
  }
  if (run.status === 'waiting') {
    if (waitingHint) err(waitingHint);
    return 3;
  }
  err(`run ${run.id} ${run.status}${run.error ? `: ${run.error}` : ''}\n`);
  return 1;
}

/** The steps of a run waiting for a person. */
export const waitingSteps = (run: { steps: Record<string, { status: string }> }) =>
  Object.entries(run.steps)
    .filter(([, s]) => s.status === 'waiting')
    .map(([name]) => name);

function approveHint(runId: string, steps: string[], server: string | undefined): string {
  const base = server ?? 'http://localhost:8080';
  const lines = [
    `run ${runId} is waiting for approval of ${steps.map((s) => `"${s}"`).join(', ')}.`,
    server
      ? 'Approve it with (`quorum runs reject` refuses it):'
      : 'Approve it through a gateway on the same database (`quorum runs reject` refuses it):',
    ...steps.map((s) => `  quorum runs approve ${runId} ${s}${server ? ` --server ${base}` : ''}`),
    'or through the API:',
    ...steps.map(
      (s) =>
        `  curl -X POST ${base}/v1/runs/${runId}/steps/${s}/approve -H 'content-type: application/json' -d '{"approved": true}'`,
    ),
    `  (add -H "Authorization: Bearer $QUORUM_KEY" when the gateway needs a key; "approved": false rejects it)`,
  ];
  return `${lines.join('\n')}\n`;
}

/** Asks on the terminal; null when the person pressed Ctrl-C or closed the input. */
async function askTerminal(question: string): Promise<string | null> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const abort = new AbortController();
  rl.on('SIGINT', () => abort.abort());
  rl.on('close', () => abort.abort());
  try {
    return await rl.question(question, { signal: abort.signal });
  } catch {
    err('\n');
    return null;
  } finally {
    rl.close();
  }
}

/** Output shown per step under review: enough to judge, not a whole book. */
const SHOWN_CHARS = 2_000;

/**
 * What a person is asked to approve: the approval step's description and the output of each step it
 * waits on, so the answer is not given blind.
 */
export function approvalContext(
  definition: WorkflowDefinition,
  steps: Record<string, { output?: unknown } | undefined>,
  step: string,
): string {
  const own = definition.steps[step];
  const lines = [`── approval: ${step} ──`];
  if (own?.description) lines.push(own.description);
  for (const need of own?.needs ?? []) {
    const output = steps[need]?.output;
    const text = typeof output === 'string' ? output : JSON.stringify(output ?? null, null, 2);
    const shown =
      text.length > SHOWN_CHARS
        ? `${text.slice(0, SHOWN_CHARS)}… (${text.length - SHOWN_CHARS} more characters)`
        : text;
    lines.push(`${need}:`, ...shown.split('\n').map((l) => `  ${l}`));
  }
  return `${lines.join('\n')}\n`;
}

/** y → approve, anything else → reject; null (no answer) leaves the step waiting. */
async function askApproval(io: RunIo, step: string): Promise<boolean | null> {
  const answer = await (io.ask ?? askTerminal)(`approve ${step}? [y/N] `);
  return answer === null ? null : /^\s*y(es)?\s*$/i.test(answer);
}

export async function runCommand(argv: string[], io: RunIo = {}): Promise<number> {
  const parsed = parseOr('run', argv, {
    input: { type: 'string', multiple: true },
    config: { type: 'string' },
    database: { type: 'string' },
    server: { type: 'string' },
    key: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (values.help) {
    out(RUN_HELP);
    return 0;
  }
  if (positionals.length !== 1) return usage('run', 'give one workflow file: quorum run <workflow.yaml>');
  const given = inputPairs(values.input ?? []);
  if (typeof given === 'string') return usage('run', given);

  const file = positionals[0]!;
  const workflow = readWorkflowFile(file);
  if (!workflow) return 2;
  const inputs = resolveInputs(workflow.definition, given, { fromText: true });
  if (!inputs.ok) {
    for (const p of inputs.problems) err(`${p.path}: ${p.message}\n`);
    return 2;
  }
  const interactive = io.interactive ?? Boolean(process.stdin.isTTY);
  const options = { json: values.json === true, interactive, io };
  if (values.server !== undefined) {
    const key = keyFrom(values.key);
    return runRemote(values.server, key, file, workflow.definition, inputs.inputs, options);
  }
  return runEmbedded(workflow.definition, inputs.inputs, {
    ...options,
    config: values.config,
    database: values.database ?? databaseUrlFrom(process.env),
    key: values.key,
  });
}

interface CommonOptions {
  json: boolean;
  interactive: boolean;
  io: RunIo;
}

// ---- embedded --------------------------------------------------------------------------------------

/** The team (and store key id) a run is charged to: `--key` as a config key or a store key, else default. */
async function callerOf(
  key: string | undefined,
  config: GatewayConfig,
  store: Store,
): Promise<{ team: string; key_id: string | null } | string> {
  if (key === undefined) return { team: 'default', key_id: null };
  const configKey = config.keys.find((k) => k.key === key);
  // A static key has no id: the run keeps it as the ledger names it (static:<name>).
  if (configKey)
    return { team: configKey.team, key_id: configKey.name ? `${STATIC_KEY_PREFIX}${configKey.name}` : null };
  const found = await store.keys.lookup(key);
  if (!found) return 'the --key is neither in the configuration nor in the database';
  if (found.status !== 'active') return `the --key is ${found.status}`;
  return { team: found.key.team, key_id: found.key.id };
}

async function runEmbedded(
  definition: WorkflowDefinition,
  inputs: Record<string, unknown>,
  options: CommonOptions & { config: string | undefined; database: string; key: string | undefined },
): Promise<number> {
  // Logs go to stderr (stdout is the outputs), quiet unless something is wrong.
  const logger = createLogger({
    level: process.env.QUORUM_LOG_LEVEL ?? 'warn',
    destination: { write: (line: string) => void process.stderr.write(line) },
  });
  let closing = false;
  let progress = new Progress(definition.name);
  let runId: string | null = null;
  let booted: Booted;
  try {
    // This run only: unfinished runs of others are left to a gateway on the same database.
    booted = await boot({
      logger,
      config: options.config !== undefined ? { path: options.config } : {},
      env: { ...process.env, QUORUM_DATABASE_URL: options.database },
      workflows: {
        mode: 'run',
        onEvent: (event: RunEvent) => {
          const line = progress.line(event);
          if (line) err(`${line}\n`);
        },
        onError: (e) => {
          if (!closing) err(`workflow engine: ${(e as Error).message ?? e}\n`);
        },
      },
    });
  } catch (e) {
    if (e instanceof ConfigError) {
      for (const p of e.problems) err(`${p}\n`);
      return 2;
    }
    if (e instanceof BootError && e.step === 'store') {
      err(`quorum run: cannot open the database ${options.database}: ${(e.cause as Error).message}\n`);
      return 1;
    }
    throw e;
  }
  const { config, gateway } = booted;
  const store = booted.store!;
  const engine = booted.workflows!.engine;
  const interrupt = () => {
    if (runId) {
      err('interrupted: cancelling the run\n');
      void engine.cancel(runId).catch(() => {});
    }
  };
  process.once('SIGINT', interrupt);
  try {
    const caller = await callerOf(options.key, config, store);
    if (typeof caller === 'string') return usage('run', caller);
    // Every model the definition names, checked as the server checks it, before any step is paid for.
    const problems = stepModelProblems(
      gateway,
      await storeCallerResolver(store, config)(caller.team, caller.key_id),
      definition,
    );
    if (problems.length) {
      err(`quorum run: ${definition.name} names models team \`${caller.team}\` cannot use here:\n`);
      for (const p of problems) err(`${p.path}: ${p.message}\n`);
      return 2;
    }
    const latest = await store.workflows.latestByName(caller.team, definition.name);
    const stored =
      latest && isDeepStrictEqual(latest.definition, JSON.parse(JSON.stringify(definition)))
        ? latest
        : await store.workflows.createWorkflow({
            team: caller.team,
            name: definition.name,
            definition,
          });
    progress = new Progress(`${definition.name} v${stored.version}`);
    let run: Awaited<ReturnType<Engine['start']>>;
    try {
      run = await engine.start(stored.id, inputs, caller);
    } catch (e) {
      if (!(e instanceof EngineError)) throw e;
      err(`quorum run: ${e.message}\n`);
      for (const p of e.problems) err(`${p.path}: ${p.message}\n`);
      return e.code === 'invalid' ? 2 : 1;
    }
    runId = run.id;
    run = await engine.wait(run.id);
    let asking = options.interactive;
    while (run.status === 'waiting' && asking) {
      for (const step of waitingSteps(run)) {
        err(approvalContext(definition, run.steps, step));
        const approved = await askApproval(options.io, step);
        if (approved === null) {
          asking = false;
          break;
        }
        await engine.approve(run.id, step, { approved });
      }
      run = await engine.wait(run.id);
    }
    return finish(runView(run), options.json, approveHint(run.id, waitingSteps(run), undefined));
  } finally {
    process.removeListener('SIGINT', interrupt);
    closing = true;
    await booted.close();
  }
}

// ---- remote (--server) -------------------------------------------------------------------------------

async function runRemote(
  server: string,
  key: string | undefined,
  file: string,
  definition: WorkflowDefinition,
  inputs: Record<string, unknown>,
  options: CommonOptions,
): Promise<number> {
  const client = createClient(server, key);
  const { base, api } = client;

  let runId = '';
  try {
    const yaml = !/\.json$/i.test(file);
    const stored = await api(
      'POST',
      '/v1/workflows',
      readFileSync(file, 'utf8'),
      yaml ? 'application/yaml' : 'application/json',
    );
    const started = await api('POST', `/v1/workflows/${stored.id}/runs`, JSON.stringify({ inputs }));
    runId = started.run_id;
    const progress = new Progress(`${stored.name} v${stored.version} on ${base}`);
    const waiting = new Set<string>();
    let last = 0;
    let ended = false;
    for (let connection = 0; !ended && connection < 5; connection++) {
      const controller = new AbortController();
      const body = await client.events(runId, last, controller.signal);
      try {
        for await (const frame of sseFrames(body)) {
          const event = streamEvent(frame);
          if (!event) continue;
          if (event.seq !== undefined) last = event.seq;
          const line = progress.line(event);
          if (line) err(`${line}\n`);
          if (TERMINAL_EVENTS.has(event.type)) {
            ended = true;
            break;
          }
          if (event.type === 'step.waiting' && event.step) waiting.add(event.step);
          if (event.type === 'step.succeeded' || event.type === 'step.failed') waiting.delete(event.step!);
          if (!waiting.size) continue;
          // An approval is pending: act once nothing else can move (the run itself is `waiting`).
          const run = await api('GET', `/v1/runs/${runId}`);
          if (run.status !== 'waiting') continue;
          const leave = () => {
            controller.abort();
            return finish(run, options.json, approveHint(runId, waitingSteps(run), base));
          };
          if (!options.interactive) return leave();
          for (const name of waitingSteps(run)) {
            err(approvalContext(definition, run.steps, name));
            const approved = await askApproval(options.io, name);
            if (approved === null) return leave();
            await api('POST', `/v1/runs/${runId}/steps/${name}/approve`, JSON.stringify({ approved }));
            waiting.delete(name);
          }
        }
      } finally {
        controller.abort();
      }
      if (!ended) {
        // The stream closed early (a restart, a proxy): done if the run ended, else follow it again.
        const run = await api('GET', `/v1/runs/${runId}`);
        if (FINISHED.has(run.status)) break;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    return finish(await api('GET', `/v1/runs/${runId}`), options.json);
  } catch (e) {
    if (e instanceof ApiError) {
      err(`quorum run: ${base} answered ${e.status}: ${e.message}\n`);
      return e.status === 400 ? 2 : 1;
    }
    if ((e as Error).name === 'AbortError') throw e;
    err(
      `quorum run: cannot reach ${base}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}\n`,
    );
    return 1;
  }
}
