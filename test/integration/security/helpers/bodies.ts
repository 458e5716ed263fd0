/**
 * The bodies the fuzz suite sends, as fast-check arbitraries: chat, embeddings, consensus and review requests,
 * workflow definitions (JSON and YAML, alias bombs included), run inputs and query strings — each
 * shaped like the real thing so most get deep into the gateway, with hostile values from hostile.ts
 * in one or two fields at a time.
 */
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import {
  anyJsonText,
  BAD_MODEL_NAMES,
  deep,
  hostile,
  hostileNumber,
  hostileString,
  malformedBytes,
  shaped,
  toJson,
} from './hostile.ts';

/** Small, so bodies at and past the limit are cheap to build and send thousands of times. */
export const MAX_BODY = 64 * 1024;
/**
 * Model names of the fuzz config: ids (`oa-resp` on a provider that serves the Responses API, which
 * POST /v1/responses passes through raw), an alias, a preset and the router's names.
 */
export const MODELS = [
  'oa-model',
  'oa-resp',
  'an-model',
  'ge-model',
  'mini',
  'panel',
  'auto',
  'auto:cost',
  'auto:quality',
  'oa-embed',
  'ge-embed',
];

export const bad = hostile(MAX_BODY);
export const model = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...MODELS) },
  fc.constantFrom(...BAD_MODEL_NAMES),
);
export const text = fc.string({ maxLength: 30 });
const models = fc.array(model, { minLength: 1, maxLength: 3 });

const part = fc.oneof(
  shaped({ type: fc.constant('text'), text }, bad, ['type']),
  shaped({ type: fc.constant('image_url'), image_url: shaped({ url: text, detail: text }, bad) }, bad, [
    'type',
  ]),
  shaped({ type: fc.constant('file'), file: shaped({ file_data: text, filename: text }, bad) }, bad, [
    'type',
  ]),
  shaped({ type: fc.constant('input_audio'), input_audio: shaped({ data: text, format: text }, bad) }, bad, [
    'type',
  ]),
);
const message = fc.oneof(
  shaped(
    {
      role: fc.constant('user'),
      content: fc.oneof(text, fc.array(part, { minLength: 1, maxLength: 3 })),
      name: text,
    },
    bad,
    ['role', 'content'],
  ),
  shaped(
    { role: fc.constantFrom('system', 'developer', 'assistant'), content: fc.oneof(text, fc.constant('')) },
    bad,
    ['role', 'content'],
  ),
  shaped({ role: fc.constant('tool'), content: text, tool_call_id: text }, bad, [
    'role',
    'content',
    'tool_call_id',
  ]),
);
const tool = shaped(
  {
    type: fc.constant('function'),
    function: shaped(
      {
        name: fc.constantFrom('get_weather', 'x', '__proto__', 'constructor'),
        description: text,
        parameters: fc.oneof(
          fc.constant({ type: 'object', properties: {} }),
          deep,
          fc.jsonValue({ maxDepth: 3 }),
        ),
        strict: fc.boolean(),
      },
      bad,
      ['name'],
    ),
  },
  bad,
  ['type', 'function'],
);
const quorumOptions = shaped(
  {
    route: shaped(
      {
        policy: fc.constantFrom('cost', 'balanced', 'quality', 'latency'),
        models,
        min_quality: fc.double({ min: 0, max: 1, noNaN: true }),
        max_cost_usd: fc.double({ min: 0, max: 10, noNaN: true }),
      },
      bad,
    ),
    fallbacks: models,
    ensemble: shaped(
      {
        strategy: fc.constantFrom('consensus', 'best_of_n', 'ensemble', 'review'),
        models,
        judge: model,
        quorum: fc.integer({ min: 1, max: 3 }),
        layers: fc.integer({ min: 1, max: 2 }),
      },
      bad,
      ['strategy'],
    ),
    cache: fc.boolean(),
    tags: fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
  },
  bad,
);
const chatFields = (stream: boolean) => ({
  messages: fc.array(message, { minLength: 1, maxLength: 3 }),
  tools: fc.array(tool, { maxLength: 2 }),
  tool_choice: fc.oneof(
    fc.constantFrom('none', 'auto', 'required'),
    shaped(
      {
        type: fc.constant('function'),
        function: shaped({ name: fc.constant('get_weather') }, bad, ['name']),
      },
      bad,
      ['type', 'function'],
    ),
  ),
  response_format: fc.oneof(
    fc.constant({ type: 'json_object' }),
    shaped(
      {
        type: fc.constant('json_schema'),
        json_schema: shaped({ name: text, schema: fc.oneof(deep, fc.jsonValue({ maxDepth: 3 })) }, bad, [
          'name',
        ]),
      },
      bad,
      ['type'],
    ),
  ),
  stream: fc.constant(stream),
  stream_options: shaped({ include_usage: fc.boolean() }, bad),
  temperature: fc.double({ min: 0, max: 2, noNaN: true }),
  top_p: fc.double({ min: 0, max: 1, noNaN: true }),
  max_tokens: fc.integer({ min: 1, max: 50 }),
  stop: fc.oneof(text, fc.array(text, { maxLength: 5 })),
  n: fc.constantFrom(1, 2),
  metadata: fc.jsonValue({ maxDepth: 2 }),
});
export const chatBody = (stream: boolean) =>
  shaped({ model, quorum: quorumOptions, ...chatFields(stream) }, bad, ['model', 'messages', 'stream']);
export const consensusBody = shaped(
  {
    ...chatFields(false),
    strategy: fc.constantFrom('consensus', 'best_of_n', 'ensemble', 'review'),
    models,
    judge: model,
    quorum: fc.oneof(fc.integer({ min: 1, max: 3 }), quorumOptions),
    layers: fc.integer({ min: 1, max: 2 }),
    model,
  },
  bad,
  ['strategy', 'models', 'messages'],
);
const responsePart = fc.oneof(
  shaped({ type: fc.constant('input_text'), text }, bad, ['type']),
  shaped({ type: fc.constant('input_image'), image_url: text, file_id: text, detail: text }, bad, ['type']),
  shaped({ type: fc.constant('input_file'), file_data: text, file_url: text, filename: text }, bad, ['type']),
  shaped({ type: fc.constantFrom('output_text', 'refusal'), text, refusal: text }, bad, ['type']),
);
const responseItem = fc.oneof(
  shaped(
    {
      type: fc.constant('message'),
      role: fc.constantFrom('user', 'assistant', 'system', 'developer', 'tool'),
      content: fc.oneof(text, fc.array(responsePart, { maxLength: 3 })),
    },
    bad,
    ['role', 'content'],
  ),
  shaped({ type: fc.constant('function_call'), call_id: text, name: text, arguments: text }, bad, ['type']),
  shaped(
    {
      type: fc.constant('function_call_output'),
      call_id: text,
      output: fc.oneof(text, fc.array(responsePart, { maxLength: 2 })),
    },
    bad,
    ['type'],
  ),
  shaped({ type: fc.constantFrom('reasoning', 'item_reference', 'web_search_call'), id: text }, bad, [
    'type',
  ]),
);
const responseTool = fc.oneof(
  shaped(
    {
      type: fc.constant('function'),
      name: fc.constantFrom('get_weather', 'x', '__proto__', 'constructor'),
      parameters: fc.oneof(
        fc.constant({ type: 'object', properties: {} }),
        deep,
        fc.jsonValue({ maxDepth: 3 }),
      ),
      strict: fc.boolean(),
      defer_loading: fc.boolean(),
    },
    bad,
    ['type', 'name'],
  ),
  shaped({ type: fc.constantFrom('web_search', 'file_search', 'custom', 'mcp') }, bad, ['type']),
);
/** Responses API bodies; `@response` is a stored response of the caller's own (see the fuzz suite). */
export const responsesBody = (stream: boolean) =>
  shaped(
    {
      model,
      input: fc.oneof(text, fc.array(responseItem, { maxLength: 4 })),
      instructions: text,
      previous_response_id: fc.oneof(fc.constant('@response'), text),
      tools: fc.array(responseTool, { maxLength: 2 }),
      tool_choice: fc.oneof(
        fc.constantFrom('none', 'auto', 'required'),
        shaped(
          {
            type: fc.constantFrom('function', 'allowed_tools', 'mcp'),
            name: fc.constant('get_weather'),
            mode: fc.constantFrom('auto', 'required'),
            tools: fc.constant([{ type: 'function', name: 'get_weather' }]),
          },
          bad,
          ['type'],
        ),
      ),
      text: shaped(
        {
          format: fc.oneof(
            shaped({ type: fc.constantFrom('text', 'json_object') }, bad, ['type']),
            shaped(
              {
                type: fc.constant('json_schema'),
                name: text,
                schema: fc.oneof(deep, fc.jsonValue({ maxDepth: 3 })),
              },
              bad,
              ['type'],
            ),
          ),
          verbosity: fc.constantFrom('low', 'high'),
        },
        bad,
      ),
      reasoning: shaped(
        { effort: fc.constantFrom('low', 'high', 'bogus'), summary: fc.constant('auto') },
        bad,
      ),
      max_output_tokens: fc.integer({ min: 1, max: 50 }),
      temperature: fc.double({ min: 0, max: 2, noNaN: true }),
      metadata: fc.dictionary(text, text, { maxKeys: 3 }),
      store: fc.boolean(),
      include: fc.array(fc.constantFrom('reasoning.encrypted_content', 'message.output_text.logprobs'), {
        maxLength: 2,
      }),
      background: fc.boolean(),
      stream: fc.constant(stream),
      quorum: quorumOptions,
    },
    bad,
    ['model', 'input', 'stream'],
  );
const tokenIds = fc.array(fc.oneof(fc.nat(100_000), hostileNumber), { maxLength: 5 });
export const embeddingsBody = shaped(
  {
    model,
    input: fc.oneof(text, fc.array(text, { maxLength: 4 }), tokenIds, fc.array(tokenIds, { maxLength: 3 })),
    dimensions: fc.oneof(fc.integer({ min: -2, max: 5000 }), hostileNumber),
    encoding_format: fc.constantFrom('float', 'base64', 'int8'),
    user: text,
    quorum: shaped({ fallbacks: models, tags: fc.dictionary(text, text, { maxKeys: 2 }) }, bad),
  },
  bad,
  ['model', 'input'],
);
export const reviewBody = shaped(
  {
    artifact: text,
    instructions: text,
    reviewers: fc.array(model, { minLength: 1, maxLength: 2 }),
    author: model,
    rounds: fc.integer({ min: 1, max: 2 }),
    threshold: fc.double({ min: 0, max: 10, noNaN: true }),
  },
  bad,
  ['artifact', 'instructions', 'reviewers'],
);

const stepName = fc.constantFrom('a', 'b', 'c', '__proto__', 'constructor', 'toString');
const template = fc.constantFrom(
  'Say {{ inputs.topic }}',
  '{{ steps.a.output }}',
  '{{ steps.a.output.x.y }}',
  '{{ steps.__proto__.output }}',
  '{{ inputs.constructor }}',
  '{{ feedback }}',
  '{{',
  '{{ inputs.topic }}'.repeat(20),
);
const step = shaped(
  {
    type: fc.constantFrom('llm', 'ensemble', 'review', 'approval'),
    needs: fc.array(stepName, { maxLength: 2 }),
    prompt: template,
    system: text,
    model,
    max_tokens: fc.integer({ min: 1, max: 50 }),
    temperature: fc.double({ min: 0, max: 2, noNaN: true }),
    output: fc.constantFrom('text', 'json'),
    schema: fc.oneof(deep, fc.constant({ type: 'object' }), fc.jsonValue({ maxDepth: 3 })),
    retry: shaped(
      { attempts: fc.integer({ min: 1, max: 3 }), backoff_ms: fc.integer({ min: 0, max: 10 }) },
      bad,
    ),
    timeout_ms: fc.integer({ min: 1, max: 60_000 }),
    until: shaped(
      { judge: model, criteria: text, min_score: fc.integer({ min: 0, max: 10 }), max_iterations: fc.nat(5) },
      bad,
    ),
    back_to: shaped({ step: stepName, max_loops: fc.nat(3) }, bad),
    strategy: fc.constantFrom('consensus', 'best_of_n', 'ensemble'),
    models,
    judge: model,
    reviewers: models,
    author: model,
    rounds: fc.integer({ min: 1, max: 2 }),
    artifact: template,
  },
  bad,
);
/** A definition that is valid as generated (before any mutation): a chain of steps over one input. */
const wellFormedDefinition = shaped(
  {
    name: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
    description: text,
    inputs: fc.constant({ topic: { type: 'string', default: 'tests' } }),
    steps: fc.record({
      a: shaped(
        {
          prompt: fc.constantFrom('Say {{ inputs.topic }}', 'hi'),
          model: fc.constantFrom('oa-model', 'auto', 'panel', 'mini'),
          max_tokens: fc.integer({ min: 1, max: 50 }),
          output: fc.constantFrom('text', 'json'),
          retry: fc.constant({ attempts: 2, backoff_ms: 0 }),
        },
        bad,
        ['prompt'],
      ),
      b: shaped(
        {
          type: fc.constantFrom('llm', 'approval'),
          needs: fc.constant(['a']),
          prompt: fc.constantFrom('{{ steps.a.output }}', '{{ steps.a.output.x }}'),
        },
        bad,
        ['needs'],
      ),
    }),
    outputs: fc.constant({ out: '{{ steps.a.output }}' }),
    max_cost_usd: fc.double({ min: 0.01, max: 5, noNaN: true }),
  },
  bad,
  ['name', 'steps'],
);
const randomDefinition = shaped(
  {
    name: fc.oneof(
      fc.constantFrom('fuzz-flow', 'a', '__proto__', 'constructor'),
      fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
    ),
    description: text,
    inputs: fc.dictionary(
      fc.constantFrom('topic', 'n', '__proto__', 'constructor'),
      shaped(
        {
          type: fc.constantFrom('string', 'number', 'object', 'array', 'boolean'),
          default: fc.jsonValue({ maxDepth: 2 }),
        },
        bad,
        ['type'],
      ),
      { maxKeys: 2 },
    ),
    steps: fc.dictionary(stepName, step, { minKeys: 1, maxKeys: 3 }),
    outputs: fc.dictionary(fc.constantFrom('out', '__proto__'), template, { maxKeys: 2 }),
    max_cost_usd: fc.double({ min: 0, max: 5, noNaN: true }),
  },
  bad,
  ['name', 'steps'],
);

export const definition = fc.oneof(wellFormedDefinition, randomDefinition);

const laughs = (levels: number) => {
  const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < levels; i++)
    lines.push(
      `a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(',')}]`,
    );
  lines.push('name: bomb', `steps: { s: { prompt: "x", schema: { bomb: *a${levels - 1} } } }`);
  return lines.join('\n');
};
/** YAML documents: stringified definitions (hostile values included), alias bombs, deep flow nesting, junk. */
export const yamlBody = fc.oneof(
  {
    weight: 6,
    arbitrary: definition.map((d) => {
      // JSON is YAML too: deep or huge documents go as they are (a YAML writer would recurse on them).
      const json = toJson(d);
      if (json.length > 4_096) return json;
      try {
        return toYaml(JSON.parse(json), { aliasDuplicateObjects: false });
      } catch {
        return json;
      }
    }),
  },
  { weight: 1, arbitrary: fc.constantFrom(laughs(4), laughs(9), laughs(12)) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(100, 1_000, 10_000)
      .map((d) => `name: deep\nsteps:\n  s:\n    prompt: x\n    schema: ${'['.repeat(d)}${']'.repeat(d)}\n`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'name: x\nsteps: !!js/function "function(){}"',
      'a: &a\n  <<: *a',
      '- - - -',
      '"\\ud800"',
      ':\n:\n',
      '!!binary AAAA',
      'name: x\nname: y\nsteps: {}',
      '&a [*a]',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 100 }) },
);

/** A body: mostly shaped, otherwise arbitrary JSON, a bare hostile value, or malformed bytes. */
export function bodies(shape: fc.Arbitrary<unknown>): fc.Arbitrary<string | Uint8Array> {
  return fc.oneof(
    { weight: 10, arbitrary: shape.map(toJson) },
    { weight: 1, arbitrary: anyJsonText },
    { weight: 1, arbitrary: bad.map(toJson) },
    { weight: 1, arbitrary: malformedBytes },
  );
}

export const pathSegment = fc.oneof(
  { weight: 1, arbitrary: hostileString.map((s) => encodeURIComponent(s.toWellFormed()) || 'x') },
  { weight: 1, arbitrary: fc.constantFrom('%zz', '%E0%A4%A', '..', '%2F', 'constructor', '__proto__') },
);
const queryKeys = [
  'team',
  'key',
  'model',
  'from',
  'to',
  'group_by',
  'workflow',
  'status',
  'waiting',
  'limit',
  'cursor',
];
export const queryString = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...queryKeys, '__proto__', 'constructor'), fc.string({ maxLength: 6 })),
      fc.oneof(
        hostileString,
        fc.constantFrom(
          'day',
          'model',
          'key',
          'team',
          '2026-01-01',
          '2026-01-01T00:00:00Z',
          '1e308',
          '-1',
          '0',
          '99999999999999999999',
          'waiting',
          'true',
          '1',
        ),
      ),
      fc.boolean(),
    ),
    { maxLength: 5 },
  )
  .map((pairs) =>
    pairs
      .map(([k, v, encode]) =>
        encode
          ? `${encodeURIComponent(k.toWellFormed())}=${encodeURIComponent(v.toWellFormed())}`
          : `${k}=${v}`,
      )
      .join('&'),
  );

/** Anthropic Messages bodies: every block type the gateway reads, and ones it passes on unread. */
const cacheControl = fc.oneof(
  fc.constant({ type: 'ephemeral' }),
  fc.constant({ type: 'ephemeral', ttl: '1h' }),
);
const source = shaped(
  {
    type: fc.constantFrom('base64', 'url', 'file', 'text', 'content'),
    media_type: fc.constantFrom('image/png', 'application/pdf', 'text/plain'),
    data: text,
    url: text,
    file_id: text,
    content: fc.oneof(
      text,
      fc.array(shaped({ type: fc.constantFrom('text', 'image'), text }, bad, ['type'])),
    ),
  },
  bad,
  ['type'],
);
/** Mostly blocks every model takes, so most bodies get past validation and the translation. */
const block = fc.oneof(
  {
    weight: 4,
    arbitrary: shaped({ type: fc.constant('text'), text, cache_control: cacheControl }, bad, [
      'type',
      'text',
    ]),
  },
  {
    weight: 2,
    arbitrary: shaped(
      {
        type: fc.constantFrom('image', 'document'),
        source,
        title: text,
        citations: shaped({ enabled: fc.boolean() }, bad),
      },
      bad,
      ['type', 'source'],
    ),
  },
  {
    weight: 2,
    arbitrary: shaped(
      { type: fc.constant('tool_use'), id: text, name: text, input: fc.jsonValue({ maxDepth: 2 }) },
      bad,
      ['type', 'id', 'name', 'input'],
    ),
  },
  {
    weight: 2,
    arbitrary: shaped(
      {
        type: fc.constant('tool_result'),
        tool_use_id: text,
        content: fc.oneof(
          text,
          fc.array(shaped({ type: fc.constantFrom('text', 'image'), text }, bad, ['type'])),
        ),
        is_error: fc.boolean(),
      },
      bad,
      ['type', 'tool_use_id'],
    ),
  },
  {
    weight: 1,
    arbitrary: shaped({ type: fc.constant('thinking'), thinking: text, signature: text }, bad, [
      'type',
      'thinking',
      'signature',
    ]),
  },
  {
    weight: 1,
    arbitrary: shaped({ type: fc.constant('redacted_thinking'), data: text }, bad, ['type', 'data']),
  },
  {
    weight: 1,
    arbitrary: shaped(
      { type: fc.constantFrom('server_tool_use', 'search_result', '__proto__', 'constructor'), text },
      bad,
      ['type'],
    ),
  },
);
const anthropicMessage = shaped(
  {
    role: fc.constantFrom('user', 'assistant', 'system'),
    content: fc.oneof(text, fc.array(block, { minLength: 1, maxLength: 3 })),
  },
  bad,
  ['role', 'content'],
);
const messagesFields = {
  model,
  quorum: quorumOptions,
  messages: fc.array(anthropicMessage, { minLength: 1, maxLength: 3 }),
  system: fc.oneof(
    text,
    fc.array(
      shaped({ type: fc.constant('text'), text, cache_control: cacheControl }, bad, ['type', 'text']),
      {
        maxLength: 2,
      },
    ),
  ),
  tools: fc.array(
    shaped(
      {
        name: fc.constantFrom('get_weather', '__proto__', 'constructor'),
        description: text,
        input_schema: fc.oneof(
          fc.constant({ type: 'object', properties: {} }),
          deep,
          fc.jsonValue({ maxDepth: 3 }),
        ),
        type: fc.constantFrom('custom', 'web_search_20250305'),
        cache_control: cacheControl,
      },
      bad,
      ['name'],
    ),
    { maxLength: 2 },
  ),
  tool_choice: shaped(
    {
      type: fc.constantFrom('auto', 'any', 'tool', 'none'),
      name: text,
      disable_parallel_tool_use: fc.boolean(),
    },
    bad,
    ['type'],
  ),
  thinking: shaped(
    {
      type: fc.constantFrom('enabled', 'disabled', 'adaptive'),
      budget_tokens: fc.integer({ min: 1, max: 100 }),
    },
    bad,
    ['type'],
  ),
};
export const messagesBody = (stream: boolean) =>
  shaped(
    {
      ...messagesFields,
      max_tokens: fc.integer({ min: 0, max: 50 }),
      stream: fc.constant(stream),
      stop_sequences: fc.array(text, { maxLength: 5 }),
      temperature: fc.double({ min: 0, max: 1, noNaN: true }),
      top_p: fc.double({ min: 0, max: 1, noNaN: true }),
      metadata: shaped({ user_id: text }, bad),
      output_config: fc.jsonValue({ maxDepth: 2 }),
      cache_control: cacheControl,
    },
    bad,
    ['model', 'messages', 'max_tokens', 'stream'],
  );
export const countTokensBody = shaped(messagesFields, bad, ['model', 'messages']);
