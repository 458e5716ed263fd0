/**
 * `quorum runs list|show|events|approve|reject|rerun|cancel`: workflow runs on a running gateway,
 * through its HTTP API (GET /v1/runs, GET /v1/runs/:id, its SSE events, approve, re-run, cancel).
 */

import { HISTORY_SENT } from '../server/routes/workflows/runs.ts';
import { parseOr, usage } from './args.ts';
import { Progress, usd, waitingSteps } from './run.ts';
import {
  ApiError,
  type Client,
  createClient,
  DEFAULT_SERVER,
  FINISHED,
  keyFrom,
  type StreamEvent,
  serverFrom,
  sseFrames,
  streamEvent,
  unreachable,
} from './server-client.ts';
import { formatTable } from './table.ts';

const COMMON_OPTIONS = `Options (every subcommand):
  --server <url>  the gateway (default: $QUORUM_URL, else ${DEFAULT_SERVER})
  --key <key>     the API key sent (default: $QUORUM_KEY, else $QUORUM_API_KEY, else $QUORUM_MASTER_KEY):
                  a team's key sees its team's runs, the master key every team's
  --json          print what the API answers instead of text (the run, the list, or for events one
                  event per line as the SSE stream sends it)
  -h, --help      show this help`;

export const RUNS_HELP = `quorum runs — list, inspect and steer workflow runs on a running gateway

Usage:
  quorum runs list [--status <status>[,<status>]] [--workflow <name|id>] [--waiting] [--limit <n>]
  quorum runs show <run>
  quorum runs events <run> [--follow]
  quorum runs approve <run> <step> [--comment <text>]
  quorum runs reject <run> <step> [--reason <text>]
  quorum runs rerun <run> --from <step>
  quorum runs cancel <run>

${COMMON_OPTIONS}

\`quorum runs <subcommand> --help\` explains one. Runs are started with \`quorum run <workflow> --server <url>\`
(or POST /v1/workflows/{id}/runs); a run waiting at an approval step stays waiting until someone
approves or rejects it.

Examples:
  quorum runs list --waiting
  quorum runs show run_3Fq9bXk2LmN8pQr1
  quorum runs events run_3Fq9bXk2LmN8pQr1 --follow
  quorum runs approve run_3Fq9bXk2LmN8pQr1 review --comment "figures checked"
  quorum runs reject run_3Fq9bXk2LmN8pQr1 review --reason "the sources are missing"
  quorum runs rerun run_3Fq9bXk2LmN8pQr1 --from draft
  quorum runs cancel run_3Fq9bXk2LmN8pQr1
  QUORUM_URL=http://gateway:8080 QUORUM_KEY=qk-… quorum runs list --status failed --json

Exit codes: 0 done, 1 the gateway refused (its message is printed) or could not be reached, 2 usage error.
`;

const SUB_HELP: Record<Sub, string> = {
  list: `quorum runs list — the runs the key may see, newest first

Usage: quorum runs list [--status <status>[,<status>]] [--workflow <name|id>] [--waiting] [--limit <n>] [--json]

  --status <s>        only runs in these statuses: pending, running, waiting, succeeded, failed, cancelled
  --workflow <name>   only runs of this workflow: its name (every version) or one version's id (wf_…)
  --waiting           only runs waiting for a person (an approval step)
  --limit <n>         how many runs (default 20, at most 1000)

${COMMON_OPTIONS}

One line per run: its id, workflow (name and version), status, the steps waiting for approval, when it
started (UTC) and what it has cost so far.

Examples:
  quorum runs list
  quorum runs list --waiting
  quorum runs list --workflow hometown-distance --status failed,cancelled --limit 50
  quorum runs list --json | jq -r '.data[].id'
`,
  show: `quorum runs show — one run with every step

Usage: quorum runs show <run> [--json]

${COMMON_OPTIONS}

Prints the run's status, inputs, cost and error, then each step's status, attempts, cost and output
(outputs are cut to a line here; --json prints the whole run as GET /v1/runs/{id} returns it), and what
can be done next (approve, re-run, follow).

Examples:
  quorum runs show run_3Fq9bXk2LmN8pQr1
  quorum runs show run_3Fq9bXk2LmN8pQr1 --json | jq '.steps.draft.output'
`,
  events: `quorum runs events — a run's events, one line each

Usage: quorum runs events <run> [--follow] [--json]

  --follow    keep printing events as they happen, until the run has ended
              (succeeded, failed or cancelled); a run waiting for approval is followed until it ends

${COMMON_OPTIONS}

Without --follow, prints the events so far and exits.

Examples:
  quorum runs events run_3Fq9bXk2LmN8pQr1
  quorum runs events run_3Fq9bXk2LmN8pQr1 --follow
`,
  approve: `quorum runs approve — release an approval step, so the run goes on

Usage: quorum runs approve <run> <step> [--comment <text>]

  --comment <text>  why, kept in the step's history (and its output)

${COMMON_OPTIONS}

Examples:
  quorum runs list --waiting
  quorum runs approve run_3Fq9bXk2LmN8pQr1 review --comment "figures checked"
`,
  reject: `quorum runs reject — refuse an approval step: it fails, and so does the run

Usage: quorum runs reject <run> <step> [--reason <text>]

  --reason <text>  why; the step's error becomes "not approved: <reason>"

${COMMON_OPTIONS}

A rejected run can be taken up again later with \`quorum runs rerun <run> --from <step>\`.

Examples:
  quorum runs reject run_3Fq9bXk2LmN8pQr1 review --reason "the sources are missing"
`,
  rerun: `quorum runs rerun — run a step again, and every step after it

Usage: quorum runs rerun <run> --from <step>

  --from <step>  the first step to run again; the steps that need it (directly or not) run again too,
                 the others keep their outputs

${COMMON_OPTIONS}

Examples:
  quorum runs rerun run_3Fq9bXk2LmN8pQr1 --from draft
  quorum runs rerun run_3Fq9bXk2LmN8pQr1 --from draft && quorum runs events run_3Fq9bXk2LmN8pQr1 --follow
`,
  cancel: `quorum runs cancel — stop a run, aborting the model calls in flight

Usage: quorum runs cancel <run>

${COMMON_OPTIONS}

A cancelled run cannot be re-run or approved; a run that has already ended is left as it is.

Examples:
  quorum runs cancel run_3Fq9bXk2LmN8pQr1
`,
};

type Sub = 'list' | 'show' | 'events' | 'approve' | 'reject' | 'rerun' | 'cancel';

const OPTIONS = {
  server: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean' },
  status: { type: 'string' },
  workflow: { type: 'string' },
  waiting: { type: 'boolean' },
  limit: { type: 'string' },
  follow: { type: 'boolean' },
  comment: { type: 'string' },
  reason: { type: 'string' },
  from: { type: 'string' },
} as const;
type Option = keyof typeof OPTIONS;
type Values = { [K in Option]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

/** Each subcommand's own flags (server, key and json apply to all) and its positional arguments. */
const SUBS: Record<Sub, { flags: Option[]; args: string[] }> = {
  list: { flags: ['status', 'workflow', 'waiting', 'limit'], args: [] },
  show: { flags: [], args: ['<run>'] },
  events: { flags: ['follow'], args: ['<run>'] },
  approve: { flags: ['comment'], args: ['<run>', '<step>'] },
  reject: { flags: ['reason'], args: ['<run>', '<step>'] },
  rerun: { flags: ['from'], args: ['<run>'] },
  cancel: { flags: [], args: ['<run>'] },
};
const isSub = (s: string | undefined): s is Sub => s !== undefined && Object.hasOwn(SUBS, s);

const out = (text: string) => process.stdout.write(text);
const err = (text: string) => process.stderr.write(text);

// ---- formatting ------------------------------------------------------------------------------------

interface StepView {
  status: string;
  output: unknown;
  attempts: number;
  iterations?: number;
  cost_usd: number;
  error: string | null;
}
interface RunView {
  id: string;
  workflow_id: string;
  status: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown> | null;
  cost_usd: number;
  error: string | null;
  steps: Record<string, StepView>;
  created_at: string;
  updated_at: string;
}

const time = (iso: string | null | undefined) => (iso ? iso.slice(0, 19).replace('T', ' ') : '-');
const clock = (ms: number) => new Date(ms).toISOString().slice(11, 23);

/** A value on one line of at most `max` characters, saying how much was cut. */
export function oneLine(value: unknown, max: number): string {
  if (value === null || value === undefined) return '-';
  const text = (typeof value === 'string' ? value : JSON.stringify(value)).replace(/\s+/g, ' ').trim();
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

type Workflows = Map<string, { name: string; version: number }>;

/** Every workflow version the key may see, by id (empty when the list cannot be read). */
async function workflowsOf(client: Client): Promise<Workflows> {
  const map: Workflows = new Map();
  try {
    const list = await client.api('GET', '/v1/workflows?versions=all');
    for (const w of list?.data ?? []) map.set(w.id, { name: w.name, version: w.version });
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
  }
  return map;
}

const workflowLabel = (workflows: Workflows, id: string) => {
  const w = workflows.get(id);
  return w ? `${w.name} v${w.version}` : id;
};

// ---- subcommands -----------------------------------------------------------------------------------

const MAX_LIMIT = 1000;
const PAGE = 100;

async function list(client: Client, v: Values): Promise<number> {
  const limit = v.limit === undefined ? 20 : Number(v.limit);
  if (!/^\d+$/.test(v.limit ?? '1') || limit < 1 || limit > MAX_LIMIT) {
    return usage('runs list', `--limit: expected a whole number from 1 to ${MAX_LIMIT}`);
  }
  const workflows = await workflowsOf(client);
  // A name stands for every version of it; the API filters by one version's id.
  let ids: (string | undefined)[] = [undefined];
  if (v.workflow !== undefined) {
    ids = workflows.has(v.workflow)
      ? [v.workflow]
      : [...workflows].filter(([, w]) => w.name === v.workflow).map(([id]) => id);
    if (!ids.length) {
      err(
        `quorum runs list: no workflow named "${v.workflow}" or with that id for this key` +
          `${workflows.size ? ` (known: ${[...new Set([...workflows.values()].map((w) => w.name))].join(', ')})` : ''}.\n`,
      );
      return 1;
    }
  }
  const runs: RunView[] = [];
  let more = false;
  for (const id of ids) {
    let cursor: string | null = null;
    let taken = 0;
    do {
      const query = new URLSearchParams();
      if (v.status !== undefined) query.set('status', v.status);
      if (v.waiting) query.set('waiting', 'true');
      if (id !== undefined) query.set('workflow', id);
      query.set('limit', String(Math.min(PAGE, limit - taken)));
      if (cursor) query.set('cursor', cursor);
      const page = await client.api('GET', `/v1/runs?${query}`);
      runs.push(...page.data);
      taken += page.data.length;
      cursor = page.has_more ? page.next_cursor : null;
    } while (cursor && taken < limit);
    if (cursor) more = true;
  }
  runs.sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id));
  if (runs.length > limit) more = true;
  const shown = runs.slice(0, limit);
  if (v.json) {
    out(`${JSON.stringify({ object: 'list', data: shown, has_more: more }, null, 2)}\n`);
    return 0;
  }
  const filtered = v.status !== undefined || v.waiting || v.workflow !== undefined;
  if (!shown.length) {
    out(
      filtered
        ? 'No runs match these filters.\n'
        : 'No runs yet. Start one with `quorum run <workflow.yaml> --server <url>`.\n',
    );
    return 0;
  }
  const rows = shown.map((r) => [
    r.id,
    workflowLabel(workflows, r.workflow_id),
    r.status,
    waitingSteps(r).join(', ') || '-',
    time(r.created_at),
    usd(r.cost_usd),
  ]);
  out(formatTable(['id', 'workflow', 'status', 'waiting', 'started (UTC)', 'cost'], rows, new Set([5])));
  if (more)
    err(`(the newest ${limit} shown; more match: raise --limit, or narrow with --status/--workflow)\n`);
  return 0;
}

/** What can be done next with a run, as commands to copy. */
function nextSteps(run: RunView, flags: string): string[] {
  const waiting = waitingSteps(run);
  if (waiting.length) {
    return waiting.flatMap((s) => [
      `quorum runs approve ${run.id} ${s}${flags}`,
      `quorum runs reject ${run.id} ${s} --reason "…"${flags}`,
    ]);
  }
  if (run.status === 'running' || run.status === 'pending') {
    return [`quorum runs events ${run.id} --follow${flags}`];
  }
  const failed = Object.entries(run.steps).find(([, s]) => s.status === 'failed')?.[0];
  if (run.status === 'failed' && failed) return [`quorum runs rerun ${run.id} --from ${failed}${flags}`];
  return [];
}

async function show(client: Client, runId: string, v: Values, flags: string): Promise<number> {
  const run: RunView = await client.api('GET', `/v1/runs/${encodeURIComponent(runId)}`);
  if (v.json) {
    out(`${JSON.stringify(run, null, 2)}\n`);
    return 0;
  }
  let workflow = run.workflow_id;
  // Steps in the order the definition lists them (the run keeps them by name).
  let order: string[] = [];
  try {
    const w = await client.api('GET', `/v1/workflows/${encodeURIComponent(run.workflow_id)}`);
    workflow = `${w.name} v${w.version} (${run.workflow_id})`;
    order = Object.keys(w.definition?.steps ?? {}).filter((name) => Object.hasOwn(run.steps, name));
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
  }
  for (const name of Object.keys(run.steps)) if (!order.includes(name)) order.push(name);
  const waiting = waitingSteps(run);
  const head = [
    ['workflow', workflow],
    [
      'status',
      run.status +
        (waiting.length ? ` — ${waiting.map((s) => `"${s}"`).join(', ')} waiting for approval` : ''),
    ],
    ['started', `${time(run.created_at)} UTC`],
    ['updated', `${time(run.updated_at)} UTC`],
    ['cost', usd(run.cost_usd)],
    ['inputs', oneLine(run.inputs, 200)],
    ...(run.error ? [['error', run.error]] : []),
    ...(run.outputs ? [['outputs', oneLine(run.outputs, 200)]] : []),
  ];
  out(formatTable(['run', run.id], head));
  const steps = order
    .map((name) => [name, run.steps[name]!] as const)
    .map(([name, s]) => [
      name,
      s.status,
      String(s.attempts) + (s.iterations && s.iterations > 1 ? ` (${s.iterations} iterations)` : ''),
      usd(s.cost_usd),
      s.error ? `error: ${oneLine(s.error, 100)}` : oneLine(s.output, 60),
    ]);
  out(`\n${formatTable(['step', 'status', 'attempts', 'cost', 'output'], steps, new Set([3]))}`);
  const next = nextSteps(run, flags);
  if (next.length) out(`\nNext:\n${next.map((c) => `  ${c}\n`).join('')}`);
  return 0;
}

/** One line per event: its time (UTC) and what happened. */
function eventLine(progress: Progress, e: StreamEvent): string {
  const text =
    progress.line(e) ??
    (e.type === 'run.succeeded'
      ? '✓ run succeeded'
      : `${e.type}${e.step ? ` ${e.step}` : ''}${Object.keys(e.data).length ? ` ${oneLine(e.data, 200)}` : ''}`);
  const [first, ...rest] = text.split('\n');
  return [`${clock(e.at)}  ${first}`, ...rest.map((l) => `              ${l}`)].join('\n');
}

async function events(client: Client, runId: string, v: Values, flags: string): Promise<number> {
  const run: RunView = await client.api('GET', `/v1/runs/${encodeURIComponent(runId)}`);
  let label = run.workflow_id;
  try {
    const w = await client.api('GET', `/v1/workflows/${encodeURIComponent(run.workflow_id)}`);
    label = `${w.name} v${w.version}`;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
  }
  const progress = new Progress(label);
  const print = (e: StreamEvent, frame: string) => {
    if (v.json) out(`${frame}\n`);
    else out(`${eventLine(progress, e)}\n`);
  };
  // The server ends the stream itself once the run is over; a live run's stream stays open, and says
  // (an SSE comment) when its history has all been sent.
  const settled = FINISHED.has(run.status);
  let last = 0;
  for (let connection = 0; connection < 5; connection++) {
    const controller = new AbortController();
    const body = await client.events(run.id, last, controller.signal);
    const frames = sseFrames(body, { comments: true })[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await frames.next();
        if (!next.done && next.value.comment !== undefined) {
          if (next.value.comment === HISTORY_SENT && !v.follow) {
            err(
              `(run ${run.id} is ${run.status}: these are its events so far; ` +
                `\`quorum runs events ${run.id} --follow${flags}\` keeps watching)\n`,
            );
            return 0;
          }
          continue;
        }
        if (next.done) break;
        const e = streamEvent(next.value);
        if (!e) continue;
        if (e.seq !== undefined) last = e.seq;
        print(e, next.value.data);
      }
    } finally {
      controller.abort();
      await frames.return?.(undefined).catch(() => {});
    }
    if (settled) return 0;
    // The server ends the stream when the run ends; else it closed early (a restart, a proxy): resume.
    const now: RunView = await client.api('GET', `/v1/runs/${encodeURIComponent(run.id)}`);
    if (FINISHED.has(now.status)) return 0;
    await new Promise((r) => setTimeout(r, 500));
  }
  err(`quorum runs events: the gateway kept closing the event stream of run ${run.id}\n`);
  return 1;
}

async function approve(
  client: Client,
  [runId, step]: string[],
  approved: boolean,
  v: Values,
  flags: string,
): Promise<number> {
  const note = approved ? v.comment : v.reason;
  const run: RunView = await client.api(
    'POST',
    `/v1/runs/${encodeURIComponent(runId!)}/steps/${encodeURIComponent(step!)}/approve`,
    JSON.stringify({ approved, ...(note !== undefined ? { comment: note } : {}) }),
  );
  if (v.json) out(`${JSON.stringify(run, null, 2)}\n`);
  else if (approved) {
    out(`✓ approved ${step} of run ${run.id}: the run is ${run.status}\n`);
    if (!FINISHED.has(run.status)) out(`Follow it: quorum runs events ${run.id} --follow${flags}\n`);
  } else {
    out(`✗ rejected ${step} of run ${run.id}${note ? ` (${note})` : ''}: the run ${run.status}\n`);
  }
  return 0;
}

async function rerun(client: Client, runId: string, v: Values, flags: string): Promise<number> {
  const run: RunView = await client.api(
    'POST',
    `/v1/runs/${encodeURIComponent(runId)}/rerun`,
    JSON.stringify({ from: v.from }),
  );
  if (v.json) {
    out(`${JSON.stringify(run, null, 2)}\n`);
    return 0;
  }
  const again = Object.entries(run.steps)
    .filter(([name, s]) => name !== v.from && (s.status === 'pending' || s.status === 'running'))
    .map(([name]) => name);
  out(
    `↻ re-running ${v.from}${again.length ? ` and the steps after it (${again.join(', ')})` : ''} of run ${run.id}: the run is ${run.status}\n` +
      `Follow it: quorum runs events ${run.id} --follow${flags}\n`,
  );
  return 0;
}

async function cancel(client: Client, runId: string, v: Values): Promise<number> {
  const before: RunView = await client.api('GET', `/v1/runs/${encodeURIComponent(runId)}`);
  const run: RunView = FINISHED.has(before.status)
    ? before
    : await client.api('POST', `/v1/runs/${encodeURIComponent(runId)}/cancel`);
  if (v.json) out(`${JSON.stringify(run, null, 2)}\n`);
  if (before.status === 'cancelled') {
    if (!v.json) out(`Run ${run.id} was already cancelled.\n`);
    return 0;
  }
  if (run.status !== 'cancelled') {
    err(`quorum runs cancel: run ${run.id} has already ${run.status}; there is nothing to cancel.\n`);
    return 1;
  }
  if (!v.json) out(`✗ cancelled run ${run.id} (its in-flight model calls were aborted)\n`);
  return 0;
}

// ---- the command -----------------------------------------------------------------------------------

export async function runsCommand(argv: string[]): Promise<number> {
  const parsed = parseOr('runs', argv, OPTIONS);
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as Values & { help?: boolean };
  const [sub, ...args] = parsed.positionals;
  if (sub === 'help' || (values.help && !isSub(sub))) {
    out(isSub(args[0]) ? SUB_HELP[args[0]] : RUNS_HELP);
    return 0;
  }
  if (!sub)
    return usage('runs', 'expected a subcommand: list, show, events, approve, reject, rerun or cancel');
  if (!isSub(sub)) {
    return usage(
      'runs',
      `unknown subcommand "${sub}" (list, show, events, approve, reject, rerun or cancel)`,
    );
  }
  if (values.help) {
    out(SUB_HELP[sub]);
    return 0;
  }
  const spec = SUBS[sub];
  const extra = (Object.keys(values) as Option[]).find(
    (k) => !['server', 'key', 'json'].includes(k) && !spec.flags.includes(k),
  );
  if (extra) return usage(`runs ${sub}`, `--${extra} does not apply to \`runs ${sub}\``);
  if (args.length !== spec.args.length) {
    return usage(
      `runs ${sub}`,
      args.length > spec.args.length
        ? `unexpected argument "${args[spec.args.length]}"`
        : `expected ${spec.args.join(' ')}: quorum runs ${sub} ${spec.args.join(' ')}`,
    );
  }
  if (sub === 'rerun' && !values.from) {
    return usage('runs rerun', '--from <step> is required: the first step to run again');
  }

  const client = createClient(serverFrom(values.server), keyFrom(values.key, { operator: true }));
  // The hints printed name the same gateway when it was chosen by flag.
  const flags = values.server !== undefined ? ` --server ${client.base}` : '';
  try {
    switch (sub) {
      case 'list':
        return await list(client, values);
      case 'show':
        return await show(client, args[0]!, values, flags);
      case 'events':
        return await events(client, args[0]!, values, flags);
      case 'approve':
        return await approve(client, args, true, values, flags);
      case 'reject':
        return await approve(client, args, false, values, flags);
      case 'rerun':
        return await rerun(client, args[0]!, values, flags);
      case 'cancel':
        return await cancel(client, args[0]!, values);
    }
  } catch (e) {
    if (e instanceof ApiError) {
      const hint =
        e.status === 401
          ? ' (pass --key, or set QUORUM_KEY; the master key, QUORUM_MASTER_KEY, sees every team’s runs)'
          : '';
      err(`quorum runs ${sub}: ${e.message}${hint}\n`);
      return e.status === 400 ? 2 : 1;
    }
    const why = unreachable(e, client.base);
    if (why) {
      err(`quorum runs ${sub}: ${why}\n`);
      return 1;
    }
    throw e;
  }
}
