import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import {
  type ChatRequest,
  type ChatResult,
  type FinishReason,
  resultEvents,
  type StreamEvent,
  type ToolCall,
  type Usage,
} from '../../chat/index.ts';

/**
 * Exact-match response cache (issue 3, item 6).
 *
 * Only deterministic requests are cached: `temperature: 0` or `quorum.cache: true`, and never with
 * `quorum.cache: false`. Keys are a sha256 over the team and a normalised request body, so two teams
 * never share an entry. Entries are bounded by count, by total size and by a TTL.
 *
 * What is cached: successful answers whose finish_reason is `stop`, `tool_calls` or `length` (the
 * same request truncates at the same point). Not cached: `content_filter` (often a transient
 * moderation verdict, and not an answer anyone wants pinned for the TTL) and answers carrying a
 * `refusal`, because a stream cannot carry a refusal and one entry serves both streamed and
 * non-streamed requests. Errors never reach `set`: the caller only stores what came back.
 */

export interface CacheConfig {
  enabled: boolean;
  ttl_ms: number;
  max_entries: number;
  max_bytes: number;
}

export interface CacheOptions {
  /** Clock in milliseconds, for tests; defaults to lru-cache's own (performance.now). */
  now?: () => number;
}

/** One cached answer. */
export interface CachedAnswer {
  /** Catalog id of the model that answered. */
  model: string;
  result: ChatResult;
}

/**
 * One cached embeddings answer: each vector as the provider sent it, in the encoding the request asked
 * for (which is part of the key), and the input tokens it was first charged for.
 */
export interface CachedEmbeddings {
  /** Catalog id of the model that answered. */
  model: string;
  vectors: (number[] | string)[];
  promptTokens: number;
}

/** What an embeddings request's key is made of: every field but the ones that cannot change a vector. */
export interface EmbeddingsKeyInput {
  quorum?: { cache?: boolean | undefined; fallbacks?: string[] | undefined } | undefined;
  [field: string]: unknown;
}

export interface CacheStats {
  hits: number;
  misses: number;
  entries: number;
  /** Approximate bytes held (JSON length of the entries). */
  bytes: number;
}

/** Bump when the key's input changes shape, so old entries can never match new requests. */
const KEY_VERSION = 1;

/** Request fields that cannot change the answer. */
const DROPPED_FIELDS = new Set(['stream', 'stream_options', 'user', 'metadata', 'quorum']);
/** quorum fields that cannot change the answer (tags are bookkeeping, cache is this switch). */
const DROPPED_QUORUM_FIELDS = new Set(['tags', 'cache']);

const CACHEABLE_FINISH: ReadonlySet<FinishReason> = new Set(['stop', 'tool_calls', 'length']);

export class ResponseCache {
  private readonly enabled: boolean;
  private readonly maxBytes: number;
  /** Values are the entries' JSON: gives the size for free and a fresh copy on every hit. */
  private readonly lru: LRUCache<string, string>;
  private hits = 0;
  private misses = 0;

  constructor(config: CacheConfig, options: CacheOptions = {}) {
    this.enabled = config.enabled;
    this.maxBytes = config.max_bytes;
    const clock = options.now;
    this.lru = new LRUCache<string, string>({
      max: config.max_entries,
      maxSize: config.max_bytes,
      sizeCalculation: (value, key) => Math.max(1, Buffer.byteLength(value) + key.length),
      ttl: config.ttl_ms,
      // Stale entries are dropped lazily on get; no timers to keep the process alive.
      ttlAutopurge: false,
      ...(clock
        ? {
            // lru-cache treats a start time of 0 as "no TTL", so keep an injected clock above 0.
            perf: { now: () => clock() + 1 },
            // Read the injected clock every time instead of memoising it for 1 ms with a timer.
            ttlResolution: 0,
          }
        : {}),
    });
  }

  /** The cache key for a request, or null when the request is not cacheable. */
  keyFor(team: string, request: ChatRequest): string | null {
    if (!this.enabled) return null;
    const wanted = request.quorum?.cache;
    if (wanted === false) return null;
    if (wanted !== true && request.temperature !== 0) return null;
    const input = canonicalJson({ v: KEY_VERSION, team, request: normaliseRequest(request) });
    return createHash('sha256').update(input).digest('hex');
  }

  /**
   * The key for an embeddings request, or null when it may not be cached. Embeddings are deterministic,
   * so every request is cacheable unless it says `quorum.cache: false`.
   */
  embeddingsKeyFor(team: string, request: EmbeddingsKeyInput): string | null {
    if (!this.enabled || request.quorum?.cache === false) return null;
    const body: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(request)) {
      if (field === 'user' || field === 'quorum' || value === null || value === undefined) continue;
      body[field] = value;
    }
    body.encoding_format ??= 'float';
    const fallbacks = request.quorum?.fallbacks;
    const input = canonicalJson({ v: KEY_VERSION, kind: 'embeddings', team, body, fallbacks });
    return createHash('sha256').update(input).digest('hex');
  }

  getEmbeddings(key: string): CachedEmbeddings | undefined {
    return this.read(key) as CachedEmbeddings | undefined;
  }

  /** Stores an embeddings answer; returns whether it was stored (not when larger than the whole cache). */
  setEmbeddings(key: string, entry: CachedEmbeddings): boolean {
    return this.write(key, entry);
  }

  get(key: string): CachedAnswer | undefined {
    return this.read(key) as CachedAnswer | undefined;
  }

  private read(key: string): unknown {
    const json = this.lru.get(key);
    if (json === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    return JSON.parse(json);
  }

  /** Stores an answer if it is cacheable; returns whether it was stored. */
  set(key: string, answer: CachedAnswer): boolean {
    if (!isCacheable(answer.result)) return false;
    return this.write(key, answer);
  }

  private write(key: string, entry: CachedAnswer | CachedEmbeddings): boolean {
    if (!this.enabled) return false;
    // Snapshot now: later mutation of the caller's object must not leak into the cache.
    const json = JSON.stringify(entry);
    // lru-cache silently skips an entry larger than maxSize; say so instead.
    if (Buffer.byteLength(json) + key.length > this.maxBytes) return false;
    this.lru.set(key, json);
    return true;
  }

  /** Replays a cached answer as the stream events a provider would send. */
  async *replay(answer: CachedAnswer): AsyncGenerator<StreamEvent> {
    yield* replayEvents(answer);
  }

  stats(): CacheStats {
    // Expired entries linger until touched; drop them so `entries` is honest.
    this.lru.purgeStale();
    return { hits: this.hits, misses: this.misses, entries: this.lru.size, bytes: this.lru.calculatedSize };
  }

  clear(): void {
    this.lru.clear();
  }
}

/** Whether an answer may be cached (see the module comment). */
export function isCacheable(result: ChatResult): boolean {
  return CACHEABLE_FINISH.has(result.finish_reason) && !result.refusal;
}

/** The events of a cached answer; the model event carries the provider's own name, else the catalog id. */
export function replayEvents(answer: CachedAnswer): Generator<StreamEvent> {
  return resultEvents(answer.result, answer.result.upstream_model ?? answer.model);
}

/**
 * Rebuilds a ChatResult from stream events, so a streamed miss can fill the cache too. Push every
 * event; call `result()` only after the stream ended without error.
 */
export class StreamRecorder {
  private text = '';
  private sawText = false;
  private readonly calls = new Map<number, { id: string; name: string; arguments: string }>();
  private finish: FinishReason | undefined;
  private usage: Usage = { prompt_tokens: 0, completion_tokens: 0 };
  private model: string | undefined;

  push(event: StreamEvent): void {
    switch (event.type) {
      case 'text':
        this.text += event.text;
        this.sawText = true;
        break;
      case 'tool_call': {
        const call = this.calls.get(event.index) ?? { id: '', name: '', arguments: '' };
        if (event.id !== undefined) call.id = event.id;
        if (event.name !== undefined) call.name += event.name;
        if (event.arguments !== undefined) call.arguments += event.arguments;
        this.calls.set(event.index, call);
        break;
      }
      case 'finish':
        this.finish = event.reason;
        break;
      case 'usage':
        this.usage = event.usage;
        break;
      case 'model':
        this.model = event.model;
        break;
    }
  }

  /** The whole answer, or undefined if the stream never said how it finished (not safe to cache). */
  result(): ChatResult | undefined {
    if (this.finish === undefined) return undefined;
    const toolCalls: ToolCall[] = [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, c]) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
    // Same rule as the streamed reply (replies/stream.ts): a stream with tool calls that says 'stop' means tool_calls.
    const finish = toolCalls.length && this.finish === 'stop' ? 'tool_calls' : this.finish;
    return {
      content: this.sawText ? this.text : null,
      ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
      finish_reason: finish,
      usage: this.usage,
      ...(this.model !== undefined ? { upstream_model: this.model } : {}),
    };
  }
}

/** The request without the fields that cannot change the answer; null top-level values mean "default". */
export function normaliseRequest(request: ChatRequest): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(request)) {
    if (DROPPED_FIELDS.has(field) || value === null || value === undefined) continue;
    out[field] = value;
  }
  const quorum: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(request.quorum ?? {})) {
    if (DROPPED_QUORUM_FIELDS.has(field) || value === null || value === undefined) continue;
    quorum[field] = value;
  }
  // An emptied quorum object equals none, so `{ cache: true }` and temperature 0 share entries.
  if (Object.keys(quorum).length) out.quorum = quorum;
  return out;
}

/** JSON with object keys sorted at every depth; undefined members are left out as JSON does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return '[' + value.map(canonicalJson).join(',') + ']';
  const parts: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member === undefined) continue;
    parts.push(JSON.stringify(key) + ':' + canonicalJson(member));
  }
  return '{' + parts.join(',') + '}';
}
