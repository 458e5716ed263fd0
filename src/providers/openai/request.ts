/**
 * What an OpenAI-compatible call sends: the URL and headers (fixed per provider, built once) and the
 * JSON body (the client's own request, forwarded). They are what the `openai` SDK sent before the
 * gateway built them itself — same body, same headers — minus the SDK's own telemetry headers.
 */
import { VERSION } from 'openai/version';
import type { ChatRequest } from '../../chat/index.ts';
import type { ProviderConfig } from '../../config/index.ts';
import { messagesForBody } from './text-json.ts';

/** Fields of the client's body that are ours or that the call sets itself. */
const NOT_FORWARDED = new Set(['quorum', 'stream', 'stream_options', 'model']);

/**
 * The client's body is already OpenAI-shaped: forward it whole (unknown fields included, so `seed`,
 * `logit_bias`, `reasoning_effort`… reach OpenAI-compatible servers), minus our extension field, with
 * the upstream model name. A stream always asks for usage: the gateway needs it for cost, whatever the
 * client asked for.
 */
export function toOpenAIBody(model: string, request: ChatRequest, stream: boolean): string {
  const body: Record<string, unknown> = {};
  const fields = request as Record<string, unknown>;
  for (const key in fields) if (!NOT_FORWARDED.has(key)) body[key] = fields[key];
  if (Array.isArray(body.messages)) body.messages = messagesForBody(body.messages);
  body.model = model;
  body.stream = stream;
  if (stream) body.stream_options = { include_usage: true };
  return JSON.stringify(body);
}

/** An environment variable as the SDK read it: trimmed, empty meaning unset. */
function env(name: string): string | undefined {
  return process.env[name]?.trim() || undefined;
}

/** OpenAI's own API, where a provider with no `base_url` (and no `OPENAI_BASE_URL`) goes. */
export const OPENAI_API_BASE = 'https://api.openai.com/v1';

/** The provider's base URL: `base_url`, else `OPENAI_BASE_URL`, else OpenAI's own. */
export function baseURLOf(config: ProviderConfig): URL {
  return new URL(config.base_url || env('OPENAI_BASE_URL') || OPENAI_API_BASE);
}

/** Where the calls go: the pool's origin and the path (with any query of the base URL) to post to. */
export interface Endpoint {
  origin: string;
  path: string;
}

/**
 * `base_url` (else `OPENAI_BASE_URL`, else OpenAI's) + `/chat/completions` (or another resource, such
 * as `/embeddings`). A query on the base URL (Azure's `?api-version=`) stays on every call.
 */
export function endpointOf(config: ProviderConfig, resource = '/chat/completions'): Endpoint {
  const base = baseURLOf(config);
  const url = new URL(base.origin);
  url.pathname = `${base.pathname.replace(/\/$/, '')}${resource}`;
  url.search = base.search;
  return { origin: base.origin, path: `${url.pathname}${url.search}` };
}

/**
 * The headers of every call, as undici takes them (`[name, value, …]`), later entries winning by name:
 * the SDK's own (accept, user agent, organisation and project from the environment), the key, custom
 * headers (`OPENAI_CUSTOM_HEADERS`, then the provider's `headers`), and the JSON content type.
 */
export function headersOf(config: ProviderConfig): string[] {
  const headers = new Map<string, [string, string]>();
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined) headers.set(name.toLowerCase(), [name.toLowerCase(), value]);
  };
  set('accept', 'application/json');
  set('user-agent', `OpenAI/JS ${VERSION}`);
  set('openai-organization', env('OPENAI_ORG_ID'));
  set('openai-project', env('OPENAI_PROJECT_ID'));
  // Local compatible servers often need no key; the SDK, which needed one, sent this placeholder.
  set('authorization', `Bearer ${config.api_key || 'unused'}`);
  for (const line of env('OPENAI_CUSTOM_HEADERS')?.split('\n') ?? []) {
    const colon = line.indexOf(':');
    if (colon >= 0) set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  for (const [name, value] of Object.entries(config.headers ?? {})) set(name, value);
  set('content-type', 'application/json');
  return [...headers.values()].flat();
}
