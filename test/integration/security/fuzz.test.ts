/**
 * Property-based fuzzing of every JSON endpoint: arbitrary JSON, raw malformed bytes, and bodies shaped
 * like the real thing with a hostile value in one or two fields (nesting 10,000 deep, strings at the
 * body limit, prototype keys, `1e400`, lone surrogates, wrong types, model names such as
 * `constructor`), YAML alias bombs, hostile query strings, path ids, `Last-Event-ID` values, declared
 * content types and credentials. Half the /v1 bodies go with a team's key (allow-list and budget
 * paths), the rest with the master key; a last round sends bursts across every endpoint at once.
 * For every body: no 5xx, every 4xx in the OpenAI error shape (Anthropic's on /v1/messages), streams end
 * with `[DONE]` (Responses streams with their final event, Messages streams with `message_stop` or an
 * error event); after each
 * endpoint the gateway still serves, reads of what was written still work, no error escaped, and no
 * circuit opened — a plain request for each model still reaches its own fake upstream.
 *
 * The gateway runs in this process (requests through `app.fetch`, upstream calls to the fakes over
 * loopback), so 10,000 bodies per endpoint take a couple of minutes. QUORUM_FUZZ_RUNS sets the bodies
 * per endpoint (default 10,000); QUORUM_FUZZ_SEED replays a run (the seed is printed at the start).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakesConfig, PROVIDERS } from '../helpers/gateway.ts';
import { type Backend, POSTGRES_URL, PostgresBackend } from '../store/backends.ts';
import {
  bad,
  bodies,
  chatBody,
  consensusBody,
  countTokensBody,
  definition,
  embeddingsBody,
  MAX_BODY,
  messagesBody,
  model,
  pathSegment,
  queryString,
  responsesBody,
  reviewBody,
  text,
  yamlBody,
} from './helpers/bodies.ts';
import { hostileNumber, hostileString, shaped, toJson } from './helpers/hostile.ts';
import {
  type InProcessGateway,
  isAnthropicError,
  isOpenAIError,
  type Reply,
  startInProcess,
} from './helpers/in-process.ts';

const RUNS = Number(process.env.QUORUM_FUZZ_RUNS || 10_000);
const SEED = Number(process.env.QUORUM_FUZZ_SEED || Math.floor(Math.random() * 2 ** 31));
const MASTER = 'sk-master-fuzz-0123456789abcdef';
/** A team's key: its requests go through the allow-list and the budget, which the master key skips. */
const TEAM_KEY = 'sk-team-fuzz-0123456789abcdef';
const PER_ENDPOINT_MS = Math.max(60_000, RUNS * 30);

const STEP_NAMES = ['first', 'check', 'final'];

interface Case {
  method: string;
  path: string;
  body?: string | Uint8Array;
  contentType?: string;
  stream?: boolean;
  headers?: Record<string, string>;
  /** Sent without a key of ours: the case's own headers carry the credentials. */
  anonymous?: boolean;
  /** Sent with the team's key instead of the master key (the API under /v1 only). */
  asTeam?: boolean;
}

/** A reply every fake gives, readable as a review, a judge's score and a plain answer alike. */
const REVIEW_TEXT = '{"verdict":"accept","score":9,"issues":[]}';

let gw: InProcessGateway;
type Principal = 'master' | 'team';
/** What each principal owns (definitions and runs are per team): the fuzzed paths name their own. */
interface Owned {
  /** A stored response of the principal's, for `@response` in paths and bodies. */
  response: string;
  runWorkflow: string;
  editWorkflow: string;
  finishedRun: string;
  runPool: string[];
}
const owned: Record<Principal, Owned> = {
  master: { response: '', runWorkflow: '', editWorkflow: '', finishedRun: '', runPool: [] },
  team: { response: '', runWorkflow: '', editWorkflow: '', finishedRun: '', runPool: [] },
};
const keyOf = (who: Principal) => (who === 'team' ? TEAM_KEY : MASTER);
const POOL_SIZE = 4;
const changesByRun = new Map<string, number>();
const escaped: unknown[] = [];
const onEscape = (err: unknown) => escaped.push(err);

interface Endpoint {
  name: string;
  cases: () => fc.Arbitrary<Case>;
  /** A read of what the endpoint writes, which must still answer after the fuzzing. */
  readBack?: { method: string; path: () => string };
}

const post =
  (path: string, shape: fc.Arbitrary<unknown>, stream = false) =>
  () =>
    bodies(shape).map((body): Case => ({ method: 'POST', path, body, stream }));
/** A run of the pool, by slot: the slot's run is looked up when the request is sent (runs get replaced). */
const pooledRun = () =>
  fc.oneof({ weight: 8, arbitrary: fc.nat(POOL_SIZE - 1).map((i) => `@run${i}`) }, pathSegment);
const runStep = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...STEP_NAMES) }, pathSegment);

const ENDPOINTS: Endpoint[] = [
  { name: 'POST /v1/chat/completions', cases: post('/v1/chat/completions', chatBody(false)) },
  { name: 'POST /v1/chat/completions (stream)', cases: post('/v1/chat/completions', chatBody(true), true) },
  { name: 'POST /v1/route', cases: post('/v1/route', chatBody(false)) },
  { name: 'POST /v1/embeddings', cases: post('/v1/embeddings', embeddingsBody) },
  {
    name: 'POST /v1/responses',
    cases: post('/v1/responses', responsesBody(false)),
    readBack: { method: 'GET', path: () => `/v1/responses/${owned.master.response}` },
  },
  { name: 'POST /v1/responses (stream)', cases: post('/v1/responses', responsesBody(true), true) },
  {
    name: 'GET, DELETE /v1/responses/:id(/input_items?…)',
    cases: () =>
      fc
        .tuple(
          fc.constantFrom('GET', 'DELETE', 'GET /input_items'),
          fc.oneof({ weight: 4, arbitrary: fc.constant('@response') }, pathSegment),
          queryString,
        )
        .map(([what, id, q]): Case => {
          const items = what === 'GET /input_items';
          // Deletes go to other ids only: the principal's own response stays for the reads.
          const target = what === 'DELETE' && id === '@response' ? 'resp_none' : id;
          return {
            method: items ? 'GET' : what,
            path: `/v1/responses/${target}${items ? '/input_items' : ''}?${q}`,
          };
        }),
  },
  { name: 'POST /v1/messages', cases: post('/v1/messages', messagesBody(false)) },
  { name: 'POST /v1/messages (stream)', cases: post('/v1/messages', messagesBody(true), true) },
  { name: 'POST /v1/messages/count_tokens', cases: post('/v1/messages/count_tokens', countTokensBody) },
  { name: 'POST /v1/consensus', cases: post('/v1/consensus', consensusBody) },
  { name: 'POST /v1/reviews', cases: post('/v1/reviews', reviewBody) },
  {
    name: 'POST /v1/feedback',
    cases: post(
      '/v1/feedback',
      shaped(
        {
          request_id: text,
          score: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), hostileNumber),
          comment: text,
        },
        bad,
        ['request_id', 'score'],
      ),
    ),
  },
  {
    name: 'GET, POST, DELETE /admin/quality(/…)',
    cases: () =>
      fc
        .tuple(fc.constantFrom('GET', 'POST /freeze', 'POST /unfreeze', 'DELETE', 'DELETE /'), pathSegment)
        .map(([what, segment]): Case => {
          const [method, suffix = ''] = what.split(' ');
          return { method: method!, path: `/admin/quality${suffix === '/' ? `/${segment}` : suffix}` };
        }),
  },
  {
    name: 'POST /v1/workflows (JSON)',
    cases: post('/v1/workflows', definition),
    readBack: { method: 'GET', path: () => '/v1/workflows' },
  },
  {
    name: 'POST /v1/workflows (YAML)',
    cases: () =>
      yamlBody.map(
        (body): Case => ({ method: 'POST', path: '/v1/workflows', body, contentType: 'application/yaml' }),
      ),
    readBack: { method: 'GET', path: () => '/v1/workflows' },
  },
  {
    name: 'POST /v1/workflows/:id/runs',
    cases: () =>
      fc
        .tuple(
          fc.oneof({ weight: 8, arbitrary: fc.constant('@workflow') }, pathSegment),
          fc.constantFrom('', '?wait=true'),
          bodies(shaped({ inputs: shaped({ topic: text, n: hostileNumber }, bad) }, bad)),
        )
        .map(
          ([id, query, body]): Case => ({ method: 'POST', path: `/v1/workflows/${id}/runs${query}`, body }),
        ),
    readBack: { method: 'GET', path: () => `/v1/workflows/${owned.master.runWorkflow}` },
  },
  {
    name: 'PUT /v1/runs/:id/steps/:step/output',
    cases: () =>
      fc
        .tuple(
          pooledRun(),
          runStep,
          bodies(
            shaped({ output: fc.oneof(text, fc.jsonValue({ maxDepth: 3 })), comment: text }, bad, ['output']),
          ),
        )
        .map(([id, s, body]): Case => ({ method: 'PUT', path: `/v1/runs/${id}/steps/${s}/output`, body })),
    readBack: { method: 'GET', path: () => `/v1/runs/${owned.master.runPool[0]}` },
  },
  {
    name: 'POST /v1/runs/:id/steps/:step/approve',
    cases: () =>
      fc
        .tuple(
          pooledRun(),
          runStep,
          bodies(shaped({ approved: fc.boolean(), comment: text }, bad, ['approved'])),
        )
        .map(([id, s, body]): Case => ({ method: 'POST', path: `/v1/runs/${id}/steps/${s}/approve`, body })),
    readBack: { method: 'GET', path: () => `/v1/runs/${owned.master.runPool[0]}` },
  },
  {
    name: 'POST /v1/runs/:id/rerun',
    cases: () =>
      fc
        .tuple(
          pooledRun(),
          bodies(shaped({ from: fc.oneof(fc.constantFrom(...STEP_NAMES), hostileString) }, bad, ['from'])),
        )
        .map(([id, body]): Case => ({ method: 'POST', path: `/v1/runs/${id}/rerun`, body })),
    readBack: { method: 'GET', path: () => `/v1/runs/${owned.master.runPool[0]}` },
  },
  {
    name: 'POST /admin/teams',
    cases: post(
      '/admin/teams',
      shaped(
        {
          id: fc.oneof(
            fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/),
            fc.constantFrom('default', '__proto__', 'constructor', 'fuzz-team'),
          ),
          budget: shaped(
            {
              limit_usd: fc.double({ min: 0, max: 100, noNaN: true }),
              period: fc.constantFrom('daily', 'weekly', 'monthly', 'total', 'hourly'),
              soft_limit_usd: fc.double({ min: 0, max: 100, noNaN: true }),
            },
            bad,
            ['limit_usd'],
          ),
          limits: shaped(
            { rpm: fc.integer({ min: 1, max: 1000 }), tpm: fc.integer({ min: 1, max: 10 ** 6 }) },
            bad,
          ),
          models: fc.array(model, { maxLength: 3 }),
        },
        bad,
        ['id'],
      ),
    ),
    readBack: { method: 'GET', path: () => '/admin/teams' },
  },
  {
    name: 'PATCH /admin/teams/:id',
    cases: () =>
      fc
        .tuple(
          fc.oneof({ weight: 6, arbitrary: fc.constant('fuzz-team') }, pathSegment),
          bodies(
            shaped(
              {
                budget: fc.oneof(
                  fc.constant(null),
                  shaped(
                    {
                      limit_usd: fc.double({ min: 0, max: 100, noNaN: true }),
                      period: fc.constantFrom('daily', 'weekly', 'monthly', 'total'),
                      soft_limit_usd: fc.oneof(
                        fc.constant(null),
                        fc.double({ min: 0, max: 100, noNaN: true }),
                      ),
                    },
                    bad,
                  ),
                ),
                limits: fc.oneof(
                  fc.constant(null),
                  shaped({ rpm: fc.integer({ min: 1, max: 1000 }), tpm: fc.constant(null) }, bad),
                ),
                models: fc.oneof(fc.constant(null), fc.array(model, { maxLength: 3 })),
              },
              bad,
            ),
          ),
        )
        .map(([id, body]): Case => ({ method: 'PATCH', path: `/admin/teams/${id}`, body })),
    readBack: { method: 'GET', path: () => '/admin/teams/fuzz-team' },
  },
  {
    name: 'POST /admin/keys',
    cases: post(
      '/admin/keys',
      shaped(
        {
          team: fc.constantFrom('fuzz-team', 'nope', '__proto__', 'constructor'),
          name: text,
          expires_at: fc.oneof(
            fc.constantFrom(
              '2099-01-01T00:00:00Z',
              '+275760-09-13T00:00:00.000Z',
              '275760-09-13T00:00:00.001Z',
              '9999-12-31T23:59:59Z',
              '+010000-01-01T00:00:00Z',
              'tomorrow',
              '2026-02-30',
              '',
            ),
            hostileNumber,
          ),
          limits: shaped(
            { rpm: fc.integer({ min: 1, max: 1000 }), tpm: fc.integer({ min: 1, max: 10 ** 6 }) },
            bad,
          ),
        },
        bad,
        ['team', 'name'],
      ),
    ),
    readBack: { method: 'GET', path: () => '/admin/keys' },
  },
  {
    // A finished run's stream replays and ends, wherever the client says it stopped reading.
    name: 'GET /v1/runs/:id/events (Last-Event-ID)',
    cases: () =>
      fc
        .tuple(
          fc.oneof(
            fc.constantFrom(
              '-5',
              '-1',
              '0',
              '1',
              '2',
              '3',
              '4',
              '99',
              '1e308',
              '-0',
              'NaN',
              '1.5',
              '',
              ' 2',
              '0x2',
            ),
            hostileString.map((v) => v.replace(/[^\x20-\x7e]/g, '')),
          ),
          fc.boolean(),
        )
        .map(
          ([id, asQuery]): Case => ({
            method: 'GET',
            path: `/v1/runs/@finished/events${asQuery ? `?after=${encodeURIComponent(id)}` : ''}`,
            ...(asQuery ? {} : { headers: { 'last-event-id': id } }),
          }),
        ),
  },
  {
    // What a browser or a confused client may declare; only JSON is parsed as JSON.
    name: 'POST /v1/chat/completions (content types)',
    cases: () =>
      fc
        .tuple(
          fc.oneof(
            fc.constantFrom(
              'text/plain',
              'text/plain;charset=UTF-8',
              'application/x-www-form-urlencoded',
              'multipart/form-data; boundary=x',
              'application/JSON',
              'application/json; charset=utf-16',
              'application/json, text/plain',
              'application/json-patch+json',
              'application/vnd.api+json',
              'application/yaml',
              '*/*',
              ';',
            ),
            hostileString.map((v) => v.replace(/[^\x20-\x7e]/g, '') || 'x'),
          ),
          chatBody(false).map(toJson),
        )
        .map(
          ([contentType, body]): Case => ({
            method: 'POST',
            path: '/v1/chat/completions',
            body,
            contentType,
          }),
        ),
  },
  {
    // Credentials in every odd shape: never anything but 401/403 in the error shape (or 200 for a real key).
    name: 'GET /v1/models (credentials)',
    cases: () =>
      fc
        .tuple(
          fc.oneof(
            fc.constantFrom(
              'Bearer',
              'Bearer ',
              'Basic dXNlcjpwYXNz',
              `Bearer ${TEAM_KEY} extra`,
              `bearer ${TEAM_KEY}`,
              `Bearer  ${MASTER}`,
            ),
            fc
              .oneof(hostileString, fc.constantFrom('x'.repeat(8_000)))
              .map((v) => `Bearer ${v.replace(/[^\x20-\x7e]/g, '')}`),
          ),
          fc.option(fc.constantFrom(TEAM_KEY, 'sk-nope', '', ' ', '__proto__'), { nil: undefined }),
        )
        .map(
          ([authorization, apiKey]): Case => ({
            method: 'GET',
            path: '/v1/models',
            anonymous: true,
            headers: { authorization, ...(apiKey === undefined ? {} : { 'x-api-key': apiKey }) },
          }),
        ),
  },
  {
    name: 'GET /admin/spend?…',
    cases: () => queryString.map((q): Case => ({ method: 'GET', path: `/admin/spend?${q}` })),
  },
  {
    name: 'GET /v1/runs?…',
    cases: () => queryString.map((q): Case => ({ method: 'GET', path: `/v1/runs?${q}` })),
  },
];

function describeCase(c: Case, res: Reply | undefined): string {
  const body =
    c.body === undefined
      ? ''
      : typeof c.body === 'string'
        ? c.body.slice(0, 400)
        : `bytes ${Buffer.from(c.body.slice(0, 100)).toString('hex')}`;
  const bodyLength = c.body === undefined ? 0 : typeof c.body === 'string' ? c.body.length : c.body.length;
  const warnings = gw
    .warnings()
    .slice(-3)
    .map((l) => l.slice(0, 600))
    .join('\n  ');
  return [
    `${c.method} ${c.path.slice(0, 200)} (${c.contentType ?? 'application/json'}, ${bodyLength} chars, ${c.anonymous ? 'its own credentials' : c.asTeam ? 'team key' : 'master key'})`,
    `body: ${body}`,
    res ? `answer: ${res.status} ${res.text.slice(0, 400)}` : 'answer: none (threw)',
    `last log lines:\n  ${warnings}`,
  ].join('\n');
}

/** The guarantee for one answer. */
function check(c: Case, res: Reply) {
  const fail = (why: string) => {
    throw new Error(`${why}\n${describeCase(c, res)}`);
  };
  if (res.status >= 500) fail(`answered ${res.status}`);
  // The Anthropic Messages surface answers in Anthropic's shape, and its streams end with message_stop
  // or an error event (no [DONE]).
  const anthropic = /^\/v1\/messages(\/|$|\?)/.test(c.path);
  if (res.status >= 400 && !(anthropic ? isAnthropicError(res.json) : isOpenAIError(res.json)))
    fail(`a 4xx without the ${anthropic ? 'Anthropic' : 'OpenAI'} error shape`);
  // A hostile `stream` value (null, 0, "") asks for no stream, so the answer's type decides; a body that
  // did send `stream: true` must be answered as a stream.
  const streamed = (res.headers.get('content-type') ?? '').startsWith('text/event-stream');
  if (c.stream && res.status === 200 && !streamed && streamAsked(c.body))
    fail('stream: true answered without a stream');
  // Chat streams end with [DONE]; Responses streams with their final event (no [DONE], as OpenAI's); run
  // event streams (also text/event-stream) end when the run is over.
  if (c.stream && streamed && res.status === 200) {
    const last = res.text.trimEnd().split('\n\n').at(-1) ?? '';
    if (anthropic) {
      if (!/^event: (message_stop|error)\n/.test(last))
        fail('a Messages stream that did not end with message_stop or error');
    } else {
      const ending = c.path.startsWith('/v1/responses')
        ? /\nevent: (response\.completed|response\.incomplete|error)\ndata: [^\n]*$/
        : /data: \[DONE\]$/;
      if (!ending.test(`\n${res.text.trimEnd()}`)) fail('a stream that did not end with its final event');
    }
    if (/"(internal_error|server_error)"/.test(res.text)) fail('a stream that ended with an internal error');
  }
}

/** Whether a body really asked for a stream (`"stream": true` at its top level). */
function streamAsked(body: Case['body']): boolean {
  if (typeof body !== 'string') return false;
  try {
    return (JSON.parse(body) as { stream?: unknown })?.stream === true;
  } catch {
    return false;
  }
}

async function send(c: Case): Promise<Reply> {
  const who: Principal = c.asTeam ? 'team' : 'master';
  const mine = owned[who];
  if (typeof c.body === 'string') c.body = c.body.replace('@response', mine.response);
  c.path = c.path
    .replace('@response', mine.response)
    .replace('@workflow', mine.runWorkflow)
    .replace('@finished', mine.finishedRun)
    .replace(/@run(\d+)/, (_, slot) => mine.runPool[Number(slot)]!);
  const res = await gw.call(c.method, c.path, {
    ...(c.anonymous ? {} : { key: keyOf(who) }),
    ...(c.body === undefined ? {} : { raw: c.body, contentType: c.contentType ?? 'application/json' }),
    ...(c.headers ? { headers: c.headers } : {}),
  });
  // An approval that went through finishes its run, and every correction or rerun adds to its history:
  // keep the pool full of runs that still wait, and small enough that reading one stays cheap.
  const runId = /^\/v1\/runs\/([^/]+)\//.exec(c.path)?.[1];
  const at = runId === undefined ? -1 : mine.runPool.indexOf(runId);
  if (res.status === 200 && at >= 0) {
    const changes = (changesByRun.get(runId!) ?? 0) + 1;
    changesByRun.set(runId!, changes);
    if (/\/approve$/.test(c.path) || changes >= 25) mine.runPool[at] = await startWaitingRun(who);
  }
  return res;
}

async function startWaitingRun(who: Principal): Promise<string> {
  const res = await gw.call('POST', `/v1/workflows/${owned[who].editWorkflow}/runs?wait=true`, {
    key: keyOf(who),
    json: {},
  });
  if (res.status !== 200 || res.json.status !== 'waiting')
    throw new Error(`setup run: ${res.status} ${res.text}`);
  return res.json.id;
}

/** A plain request per model must reach its own fake: a circuit opened by the fuzzing would divert it. */
async function expectEveryUpstreamReachable(after: string) {
  for (const p of PROVIDERS) {
    const fake = gw.fakes[p.fake];
    fake.reset();
    fake.respond({ text: REVIEW_TEXT });
    const ping = () =>
      gw.call('POST', '/v1/chat/completions', {
        key: MASTER,
        json: { model: p.model, messages: [{ role: 'user', content: 'ping' }], max_tokens: 5 },
      });
    let res = await ping();
    // After a long phase without upstream calls, the first call on the in-process fakes is sometimes
    // reset before it reaches them (not reproduced alone; open). That is one connection failure, which
    // the providers here (max_retries: 0) do not retry and which opens no circuit: one more try, and the
    // deployment must then be served by its own upstream.
    if (res.status === 502 && /ECONNRESET/.test(res.text)) {
      console.log(`fuzz: after ${after}: ${p.model}: connection reset before the upstream; trying once more`);
      res = await ping();
    }
    expect(
      {
        status: res.status,
        reachedUpstream: fake.received.length > 0,
        servedBy: res.headers.get('x-quorum-model'),
      },
      `after ${after}: ${p.model} must still be served by its own upstream (no circuit opened); got ${res.text.slice(0, 300)}`,
    ).toEqual({ status: 200, reachedUpstream: true, servedBy: p.model });
  }
}

beforeAll(() => {
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
  console.log(
    `fuzz: seed ${SEED}, ${RUNS} bodies per endpoint — replay with QUORUM_FUZZ_SEED=${SEED} QUORUM_FUZZ_RUNS=${RUNS}`,
  );
});

afterAll(() => {
  process.off('uncaughtException', onEscape);
  process.off('unhandledRejection', onEscape);
});

/**
 * SQLite always; Postgres too when QUORUM_TEST_POSTGRES_URL is set, with a tenth of the bodies (what
 * differs there is the store: what it refuses — a NUL byte, say — must still be a 4xx).
 */
const STORES: { name: string; runs: number; make: () => Backend | undefined }[] = [
  { name: 'sqlite', runs: RUNS, make: () => undefined },
  ...(POSTGRES_URL
    ? [
        {
          name: 'postgres',
          runs: Math.max(1, Math.floor(RUNS / 10)),
          make: () => new PostgresBackend(POSTGRES_URL!),
        },
      ]
    : []),
];

/** A principal's stored response, two workflows, its pool of runs waiting at an approval, and one finished run. */
async function ownWorkflowsAndRuns(who: Principal) {
  const mine = owned[who];
  const response = await gw.call('POST', '/v1/responses', {
    key: keyOf(who),
    json: { model: 'oa-model', input: 'remember this' },
  });
  mine.response = response.json.id;
  const created = await gw.call('POST', '/v1/workflows', {
    key: keyOf(who),
    json: {
      name: 'fuzz-runs',
      inputs: { topic: { type: 'string' }, n: { type: 'number', default: 1 } },
      steps: {
        gate: { type: 'approval' },
        write: { needs: ['gate'], prompt: 'About {{ inputs.topic }}', model: 'oa-model' },
      },
    },
  });
  mine.runWorkflow = created.json.id;
  const edit = await gw.call('POST', '/v1/workflows', {
    key: keyOf(who),
    json: {
      name: 'fuzz-edits',
      steps: {
        first: { prompt: 'Say hi', model: 'oa-model', max_tokens: 5 },
        check: { type: 'approval', needs: ['first'] },
        final: {
          needs: ['check'],
          prompt: 'Sum up {{ steps.first.output }}',
          model: 'oa-model',
          max_tokens: 5,
        },
      },
    },
  });
  mine.editWorkflow = edit.json.id;
  mine.runPool = [];
  for (let i = 0; i < POOL_SIZE; i++) mine.runPool.push(await startWaitingRun(who));
  mine.finishedRun = await startWaitingRun(who);
  await gw.call('POST', `/v1/runs/${mine.finishedRun}/steps/check/approve`, {
    key: keyOf(who),
    json: { approved: true },
  });
  expect((await gw.engine.wait(mine.finishedRun)).status).toBe('succeeded');
}

/** The gateway with its fakes answering, the workflows and the pool of waiting runs the endpoints use. */
async function startFuzzGateway(backend: Backend | undefined) {
  changesByRun.clear();
  gw = await startInProcess(
    (fakes) => {
      const config = fakesConfig(fakes, {
        server: { max_body_bytes: MAX_BODY },
        ensembles: {
          panel: { strategy: 'consensus', models: ['oa-model', 'an-model', 'ge-model'], judge: 'oa-model' },
        },
        teams: [
          {
            id: 'fuzzers',
            budget: { limit_usd: 1_000_000, period: 'total' },
            models: ['oa-model', 'oa-resp', 'an-model', 'ge-model', 'mini', 'panel', 'oa-embed', 'ge-embed'],
          },
        ],
        keys: [{ key: TEAM_KEY, team: 'fuzzers', name: 'fuzz' }],
      });
      (config.models as Record<string, unknown>[])[0]!.aliases = ['mini'];
      (config.providers as Record<string, unknown>[]).push({
        id: 'oar',
        type: 'openai',
        base_url: `${fakes.openai.url}/v1`,
        api_key: 'sk-upstream-responses',
        max_retries: 0,
        responses: true,
      });
      (config.models as Record<string, unknown>[]).push(
        {
          id: 'oa-resp',
          provider: 'oar',
          upstream: 'gpt-resp-up',
          context_window: 128000,
          max_output_tokens: 4096,
          price: { input: 1, output: 2 },
        },
        {
          id: 'oa-embed',
          provider: 'oa',
          context_window: 8191,
          price: { input: 0.02, output: 0 },
          capabilities: ['embeddings'],
        },
        {
          id: 'ge-embed',
          provider: 'ge',
          context_window: 2048,
          price: { input: 0.15, output: 0 },
          capabilities: ['embeddings'],
        },
      );
      return config;
    },
    { masterKey: MASTER, ...(backend ? { openStore: async () => (await backend.fresh()).open() } : {}) },
  );
  for (const p of PROVIDERS) gw.fakes[p.fake].respond({ text: REVIEW_TEXT });
  for (const who of ['master', 'team'] as const) await ownWorkflowsAndRuns(who);
  const team = await gw.call('POST', '/admin/teams', { key: MASTER, json: { id: 'fuzz-team' } });
  expect(team.status).toBe(201);
}

describe.each(STORES)('every JSON endpoint, $runs hostile bodies each, $name store', ({ runs, make }) => {
  let backend: Backend | undefined;
  beforeAll(async () => {
    backend = make();
    await startFuzzGateway(backend);
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await backend?.cleanup();
  });

  ENDPOINTS.forEach((endpoint, i) => {
    it(
      `${endpoint.name}: never 5xx, errors in the surface's shape, still serving, no circuit opened`,
      async () => {
        const started = performance.now();
        let slowest = { ms: 0, what: '' };
        const statuses = new Map<number, number>();
        const refusedAt = new Map<string, number>();
        await fc.assert(
          fc.asyncProperty(endpoint.cases(), fc.boolean(), async (c, asTeam) => {
            c.asTeam = asTeam && c.path.startsWith('/v1/');
            const t0 = performance.now();
            const res = await send(c);
            const ms = performance.now() - t0;
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            if (res.status === 400) {
              // OpenAI's shape names the field in `param`; Anthropic's message starts with it.
              const named =
                res.json?.error?.param ?? res.json?.error?.code ?? res.json?.error?.message?.split(':')[0];
              const param = String(named ?? '?').replace(/\d+/g, 'n');
              refusedAt.set(param, (refusedAt.get(param) ?? 0) + 1);
            }
            if (ms > slowest.ms)
              slowest = { ms, what: `${res.status} ${describeCase(c, res).split('\n')[0]}` };
            check(c, res);
          }),
          { numRuns: runs, seed: SEED + i, endOnFailure: true },
        );
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        console.log(
          `fuzz: ${endpoint.name}: ${runs} bodies in ${seconds} s; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}; slowest ${slowest.ms.toFixed(0)} ms: ${slowest.what}; most 400s at ${JSON.stringify([...refusedAt].sort((a, b) => b[1] - a[1]).slice(0, 6))}`,
        );

        expect((await gw.call('GET', '/healthz')).status).toBe(200);
        if (endpoint.readBack) {
          const path = endpoint.readBack.path();
          const res = await gw.call(endpoint.readBack.method, path, { key: MASTER });
          expect(res.status, `${path} after the fuzzing: ${res.text.slice(0, 300)}`).toBeLessThan(500);
        }
        await expectEveryUpstreamReachable(endpoint.name);
        expect(escaped.map(String), 'errors that escaped every handler').toEqual([]);
      },
      PER_ENDPOINT_MS,
    );
  });

  const BURST = 32;
  it(
    `all endpoints at once: ${Math.max(1, Math.floor(runs / 100))} bursts of ${BURST} concurrent bodies`,
    async () => {
      const anyCase = fc.oneof(...ENDPOINTS.map((e) => e.cases()));
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(anyCase, fc.boolean()), { minLength: BURST, maxLength: BURST }),
          async (burst) => {
            const sent = burst.map(([c, asTeam]) => ({ ...c, asTeam: asTeam && c.path.startsWith('/v1/') }));
            const answers = await Promise.all(sent.map((c) => send(c)));
            for (const [i, c] of sent.entries()) check(c, answers[i]!);
          },
        ),
        { numRuns: Math.max(1, Math.floor(runs / 100)), seed: SEED + ENDPOINTS.length, endOnFailure: true },
      );
      expect((await gw.call('GET', '/healthz')).status).toBe(200);
      await expectEveryUpstreamReachable('the concurrent bursts');
      expect(escaped.map(String), 'errors that escaped every handler').toEqual([]);
    },
    PER_ENDPOINT_MS,
  );
});
