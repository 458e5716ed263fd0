/**
 * A fake Gemini Developer API: `POST /v1beta/models/{model}:generateContent` (JSON) and
 * `:streamGenerateContent?alt=sse` (also under /v1, the SDK 3.x default) (SSE `data: {GenerateContentResponse}` frames, no [DONE]),
 * and `:batchEmbedContents` (embeddings.ts).
 *
 * Like the real API it answers 400 INVALID_ARGUMENT when a function declaration's `parameters` or
 * the `responseSchema` holds a keyword outside Gemini's OpenAPI subset (additionalProperties,
 * $schema, $ref, const, oneOf, …), and when `contents` is missing or has a role other than
 * user/model — so adapter tests prove their requests would be accepted.
 */
import { geminiEmbeddingsBody, geminiEmbedViolations, isGeminiEmbed } from './embeddings.ts';
import {
  type FakeReply,
  type FakeServer,
  type ReplyContext,
  type Responder,
  retryAfterHeaders,
  sendJson,
  splitDeltas,
  startFake,
  type WireFormat,
} from './harness.ts';

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** The fields of Gemini's `Schema` message; anything else is an unknown proto field. */
const SCHEMA_FIELDS = new Set([
  'type',
  'format',
  'title',
  'description',
  'nullable',
  'enum',
  'maxItems',
  'minItems',
  'properties',
  'required',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'pattern',
  'example',
  'anyOf',
  'propertyOrdering',
  'default',
  'items',
  'minimum',
  'maximum',
]);
const SCHEMA_TYPES = new Set([
  'TYPE_UNSPECIFIED',
  'STRING',
  'NUMBER',
  'INTEGER',
  'BOOLEAN',
  'ARRAY',
  'OBJECT',
  'NULL',
]);

/** Problems in one schema, worded like the real API's field violations. */
export function schemaViolations(schema: unknown, at: string): string[] {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    return [`Invalid value at '${at}': expected a Schema object.`];
  }
  const out: string[] = [];
  for (const [key, value] of Object.entries(schema)) {
    if (!SCHEMA_FIELDS.has(key)) {
      out.push(`Invalid JSON payload received. Unknown name "${key}" at '${at}': Cannot find field.`);
    } else if (key === 'type' && (typeof value !== 'string' || !SCHEMA_TYPES.has(value.toUpperCase()))) {
      out.push(
        `Invalid value at '${at}.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), ${JSON.stringify(value)}`,
      );
    } else if (key === 'enum' && (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))) {
      out.push(`Invalid value at '${at}.enum': enum values must be strings.`);
    } else if (key === 'items') {
      out.push(...schemaViolations(value, `${at}.items`));
    } else if (key === 'anyOf') {
      (Array.isArray(value) ? value : [value]).forEach((v, i) => {
        out.push(...schemaViolations(v, `${at}.any_of[${i}]`));
      });
    } else if (key === 'properties') {
      Object.entries((value ?? {}) as Record<string, unknown>).forEach(([, v], i) => {
        out.push(...schemaViolations(v, `${at}.properties[${i}].value`));
      });
    }
  }
  return out;
}

/** What the real API would refuse in this request body, if anything. */
export function requestViolations(body: any): string[] {
  const out: string[] = [];
  if (!Array.isArray(body?.contents) || body.contents.length === 0)
    out.push('* contents: contents is not specified');
  (body?.contents ?? []).forEach((c: any, i: number) => {
    if (c?.role !== undefined && c.role !== 'user' && c.role !== 'model') {
      out.push(`Please use a valid role: user, model. (contents[${i}].role: ${JSON.stringify(c.role)})`);
    }
    if (!Array.isArray(c?.parts) || c.parts.length === 0)
      out.push(`* contents[${i}].parts: must not be empty`);
  });
  (body?.tools ?? []).forEach((tool: any, t: number) => {
    (tool?.functionDeclarations ?? []).forEach((fn: any, f: number) => {
      if (fn?.parameters !== undefined) {
        out.push(...schemaViolations(fn.parameters, `tools[${t}].function_declarations[${f}].parameters`));
      }
    });
  });
  const responseSchema = body?.generationConfig?.responseSchema;
  if (responseSchema !== undefined)
    out.push(...schemaViolations(responseSchema, 'generation_config.response_schema'));
  return out;
}

const FINISH: Record<NonNullable<FakeReply['finish']>, string> = {
  stop: 'STOP',
  length: 'MAX_TOKENS',
  tool_calls: 'STOP',
  content_filter: 'SAFETY',
};

function usageOf(ctx: ReplyContext) {
  return {
    promptTokenCount: ctx.usage.input,
    candidatesTokenCount: ctx.usage.output,
    totalTokenCount: ctx.usage.input + ctx.usage.output + ctx.usage.reasoning,
    ...(ctx.usage.cached ? { cachedContentTokenCount: ctx.usage.cached } : {}),
    ...(ctx.usage.reasoning ? { thoughtsTokenCount: ctx.usage.reasoning } : {}),
  };
}

function functionCallParts(ctx: ReplyContext) {
  return (ctx.reply.toolCalls ?? []).map((t) => ({
    functionCall: { ...(t.id ? { id: t.id } : {}), name: t.name, args: JSON.parse(t.arguments || '{}') },
  }));
}

/** With reasoning tokens, the answer starts with a thought summary, as with `includeThoughts`. */
function thoughtParts(ctx: ReplyContext) {
  return ctx.usage.reasoning ? [{ text: 'Let me think about this.', thought: true }] : [];
}

let seq = 0;
const modelVersion = (ctx: ReplyContext) => `${ctx.model}-001`;

function response(ctx: ReplyContext, parts: unknown[], final: boolean, responseId: string) {
  const finish = ctx.reply.finish ?? 'stop';
  return {
    candidates: [
      {
        ...(parts.length ? { content: { role: 'model', parts } } : {}),
        ...(final ? { finishReason: FINISH[finish] } : {}),
        index: 0,
      },
    ],
    // Like the real API, intermediate chunks only know the prompt size.
    usageMetadata: final
      ? usageOf(ctx)
      : { promptTokenCount: ctx.usage.input, totalTokenCount: ctx.usage.input },
    modelVersion: modelVersion(ctx),
    responseId,
  };
}

export const geminiWire: WireFormat = {
  name: 'gemini',
  streamContentType: 'text/event-stream',
  route(method, path) {
    const match =
      /^\/v1(?:beta)?\/models\/([^/:]+):(generateContent|streamGenerateContent|batchEmbedContents)(\?.*)?$/.exec(
        path,
      );
    if (method !== 'POST' || !match) return null;
    const stream = match[2] === 'streamGenerateContent';
    // The SDK always asks for SSE; the JSON-array stream form is not implemented.
    if (stream && !new URLSearchParams(match[3] ?? '').has('alt', 'sse')) return null;
    return { model: decodeURIComponent(match[1]!), stream };
  },
  writeError(res, e) {
    const status = e.code ?? STATUS_NAMES[e.status] ?? 'UNKNOWN';
    const details =
      e.retryAfterSeconds === undefined
        ? undefined
        : [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${e.retryAfterSeconds}s` }];
    sendJson(
      res,
      e.status,
      { error: { code: e.status, message: e.message, status, ...(details ? { details } : {}) } },
      retryAfterHeaders(e),
    );
  },
  writeJson(res, ctx) {
    if (isGeminiEmbed(ctx.path)) return sendJson(res, 200, geminiEmbeddingsBody(ctx));
    const parts = [
      ...thoughtParts(ctx),
      ...(ctx.text ? [{ text: ctx.text }] : []),
      ...functionCallParts(ctx),
    ];
    sendJson(res, 200, response(ctx, parts, true, `fake-${++seq}`));
  },
  streamChunks(ctx) {
    const id = `fake-${++seq}`;
    const pieces: unknown[][] = [...thoughtParts(ctx).map((p) => [p])];
    for (const delta of splitDeltas(ctx.text)) pieces.push([{ text: delta }]);
    // Each function call arrives whole, in its own chunk.
    for (const call of functionCallParts(ctx)) pieces.push([call]);
    if (!pieces.length) pieces.push([]);
    return pieces.map(
      (parts, i) => `data: ${JSON.stringify(response(ctx, parts, i === pieces.length - 1, id))}\r\n\r\n`,
    );
  },
};

/** Text of the last user turn in Gemini `contents`. */
export function lastGeminiUserText(body: any): string {
  const contents: any[] = Array.isArray(body?.contents) ? body.contents : [];
  const last = [...contents].reverse().find((c) => c?.role === 'user' || c?.role === undefined);
  return (last?.parts ?? [])
    .filter((p: any) => typeof p?.text === 'string')
    .map((p: any) => p.text)
    .join(' ');
}

/**
 * Starts the fake. Validation runs before scripted replies, so an invalid request is refused even
 * when a reply was enqueued for it (the reply stays queued for the next request).
 */
export async function startFakeGemini(options: { port?: number } = {}): Promise<FakeServer> {
  const queue: FakeReply[] = [];
  let responder: Responder = () => ({});
  const server = await startFake(geminiWire, lastGeminiUserText, options);
  const validating: Responder = (req) => {
    const violations = isGeminiEmbed(req.path)
      ? geminiEmbedViolations(req.body, decodeURIComponent(/models\/([^/:]+):/.exec(req.path)![1]!))
      : requestViolations(req.body);
    if (violations.length) return { error: { status: 400, message: violations.join('\n') } };
    return queue.shift() ?? responder(req);
  };
  server.respond(validating);
  return {
    ...server,
    enqueue: (...replies) => queue.push(...replies),
    respond: (reply) => {
      responder = typeof reply === 'function' ? reply : () => reply;
    },
    reset: () => {
      server.reset();
      server.respond(validating);
      queue.length = 0;
      responder = () => ({});
    },
  };
}
