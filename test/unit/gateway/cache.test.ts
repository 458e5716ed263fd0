import { describe, expect, it } from 'vitest';
import type { ChatRequest, ChatResult, StreamEvent } from '../../../src/chat/index.ts';
import {
  type CacheConfig,
  type CachedAnswer,
  canonicalJson,
  ResponseCache,
  StreamRecorder,
} from '../../../src/gateway/cache/index.ts';

const CONFIG: CacheConfig = { enabled: true, ttl_ms: 60_000, max_entries: 100, max_bytes: 1024 * 1024 };

function makeCache(config: Partial<CacheConfig> = {}) {
  let t = 0;
  const cache = new ResponseCache({ ...CONFIG, ...config }, { now: () => t });
  return { cache, advance: (ms: number) => (t += ms) };
}

function req(extra: Record<string, unknown> = {}): ChatRequest {
  return {
    model: 'gpt-small',
    messages: [{ role: 'user', content: 'What is 2 + 2?' }],
    temperature: 0,
    ...extra,
  } as ChatRequest;
}

function answer(result: Partial<ChatResult> = {}): CachedAnswer {
  return {
    model: 'gpt-small',
    result: {
      content: 'Two plus two is four.',
      finish_reason: 'stop',
      usage: { prompt_tokens: 12, completion_tokens: 6 },
      upstream_model: 'gpt-small-2025-01-01',
      ...result,
    },
  };
}

async function collect(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

describe('ResponseCache.keyFor: what is cacheable', () => {
  const { cache } = makeCache();

  it('returns null without temperature 0 or quorum.cache', () => {
    expect(cache.keyFor('t', req({ temperature: undefined }))).toBeNull();
    expect(cache.keyFor('t', req({ temperature: 0.7 }))).toBeNull();
    expect(cache.keyFor('t', req({ temperature: null }))).toBeNull();
  });

  it('caches temperature 0, and any temperature with quorum.cache: true', () => {
    expect(cache.keyFor('t', req())).toMatch(/^[0-9a-f]{64}$/);
    expect(cache.keyFor('t', req({ temperature: 1, quorum: { cache: true } }))).toMatch(/^[0-9a-f]{64}$/);
  });

  it('lets quorum.cache: false win over temperature 0', () => {
    expect(cache.keyFor('t', req({ temperature: 0, quorum: { cache: false } }))).toBeNull();
  });

  it('returns null when the cache is disabled', () => {
    const off = makeCache({ enabled: false }).cache;
    expect(off.keyFor('t', req())).toBeNull();
    expect(off.keyFor('t', req({ quorum: { cache: true } }))).toBeNull();
    expect(off.set('k', answer())).toBe(false);
  });
});

describe('ResponseCache.keyFor: normalisation', () => {
  const { cache } = makeCache();
  const key = (r: ChatRequest, team = 'team-a') => cache.keyFor(team, r);

  it('ignores object key order at every depth', () => {
    const a = req({
      tools: [
        { type: 'function', function: { name: 'add', parameters: { type: 'object', properties: {} } } },
      ],
      response_format: { type: 'json_object' },
      max_tokens: 50,
    });
    const b = {
      max_tokens: 50,
      response_format: { type: 'json_object' },
      tools: [
        { function: { parameters: { properties: {}, type: 'object' }, name: 'add' }, type: 'function' },
      ],
      temperature: 0,
      messages: [{ content: 'What is 2 + 2?', role: 'user' }],
      model: 'gpt-small',
    } as unknown as ChatRequest;
    expect(key(a)).toBe(key(b));
  });

  it('ignores stream, stream_options, user, metadata, quorum.tags and quorum.cache', () => {
    const base = key(req());
    expect(key(req({ stream: true, stream_options: { include_usage: true } }))).toBe(base);
    expect(key(req({ stream: false }))).toBe(base);
    expect(key(req({ user: 'alice', metadata: { trace: 'x' } }))).toBe(base);
    expect(key(req({ quorum: { tags: { app: 'billing' } } }))).toBe(base);
    expect(key(req({ quorum: { cache: true, tags: { app: 'search' } } }))).toBe(base);
  });

  it('treats a null top-level field as absent', () => {
    expect(key(req({ stop: null, max_tokens: null }))).toBe(key(req()));
  });

  it('separates requests that can get different answers', () => {
    const base = key(req());
    const variants = [
      req({ model: 'gpt-large' }),
      req({ messages: [{ role: 'user', content: 'What is 2 + 3?' }] }),
      req({
        messages: [
          { role: 'system', content: 'Be terse.' },
          { role: 'user', content: 'What is 2 + 2?' },
        ],
      }),
      req({ max_tokens: 10 }),
      req({ max_completion_tokens: 10 }),
      req({ stop: ['\n'] }),
      req({ seed: 7 }),
      req({ top_p: 0.5 }),
      req({ response_format: { type: 'json_object' } }),
      req({ tools: [{ type: 'function', function: { name: 'add' } }] }),
      req({ tool_choice: 'required' }),
      req({ quorum: { route: { policy: 'cost' } } }),
      req({ quorum: { fallbacks: ['gpt-large'] } }),
      req({ quorum: { ensemble: { strategy: 'consensus' } } }),
    ];
    const keys = variants.map((v) => key(v));
    for (const k of keys) {
      expect(k).not.toBeNull();
      expect(k).not.toBe(base);
    }
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('keeps temperature in the key (quorum.cache: true at 0.2 and 0.9 differ)', () => {
    expect(key(req({ temperature: 0.2, quorum: { cache: true } }))).not.toBe(
      key(req({ temperature: 0.9, quorum: { cache: true } })),
    );
  });

  it('gives different teams different keys and never shares entries', () => {
    const r = req();
    expect(key(r, 'team-a')).not.toBe(key(r, 'team-b'));
    cache.set(key(r, 'team-a')!, answer());
    expect(cache.get(key(r, 'team-b')!)).toBeUndefined();
  });

  it('cannot be fooled by team names that look like JSON', () => {
    expect(key(req(), 'a","b')).not.toBe(key(req(), 'a'));
  });
});

describe('canonicalJson', () => {
  it('sorts keys, keeps array order and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: [3, { d: undefined, c: 'x' }] })).toBe('{"a":[3,{"c":"x"}],"b":1}');
  });
});

describe('ResponseCache get/set', () => {
  it('misses, then hits, and counts both', () => {
    const { cache } = makeCache();
    const k = cache.keyFor('t', req())!;
    expect(cache.get(k)).toBeUndefined();
    expect(cache.set(k, answer())).toBe(true);
    expect(cache.get(k)).toEqual(answer());
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, entries: 1 });
  });

  it('stores a snapshot: mutating the stored or returned objects does not change the entry', () => {
    const { cache } = makeCache();
    const a = answer();
    cache.set('k', a);
    a.result.content = 'changed';
    const hit = cache.get('k')!;
    expect(hit.result.content).toBe('Two plus two is four.');
    hit.result.content = 'changed again';
    expect(cache.get('k')!.result.content).toBe('Two plus two is four.');
  });

  it('caches stop, tool_calls and length answers', () => {
    const { cache } = makeCache();
    expect(cache.set('a', answer({ finish_reason: 'stop' }))).toBe(true);
    expect(cache.set('b', answer({ finish_reason: 'length' }))).toBe(true);
    expect(cache.set('c', answer({ finish_reason: 'tool_calls', content: null }))).toBe(true);
    expect(cache.stats().entries).toBe(3);
  });

  it('does not cache content_filter answers or refusals', () => {
    const { cache } = makeCache();
    expect(cache.set('a', answer({ finish_reason: 'content_filter', content: '' }))).toBe(false);
    expect(cache.set('b', answer({ content: null, refusal: 'I cannot help with that.' }))).toBe(false);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeUndefined();
    expect(cache.stats().entries).toBe(0);
  });

  it('expires entries after ttl_ms', () => {
    const { cache, advance } = makeCache({ ttl_ms: 1000 });
    cache.set('k', answer());
    advance(999);
    expect(cache.get('k')).toBeDefined();
    advance(2);
    expect(cache.get('k')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, entries: 0 });
  });

  it('does not extend the TTL on a hit', () => {
    const { cache, advance } = makeCache({ ttl_ms: 1000 });
    cache.set('k', answer());
    advance(600);
    expect(cache.get('k')).toBeDefined();
    advance(600);
    expect(cache.get('k')).toBeUndefined();
  });

  it('counts expired entries out of stats().entries', () => {
    const { cache, advance } = makeCache({ ttl_ms: 1000 });
    cache.set('a', answer());
    cache.set('b', answer());
    advance(1001);
    expect(cache.stats().entries).toBe(0);
  });

  it('evicts the least recently used entry past max_entries', () => {
    const { cache } = makeCache({ max_entries: 2 });
    cache.set('a', answer());
    cache.set('b', answer());
    cache.get('a'); // a is now more recent than b
    cache.set('c', answer());
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
    expect(cache.stats().entries).toBe(2);
  });

  it('keeps the total size under max_bytes, evicting the oldest', () => {
    const one = JSON.stringify(answer()).length + 1; // + the 1-char key
    const { cache } = makeCache({ max_bytes: one * 2 + 10 });
    cache.set('a', answer());
    cache.set('b', answer());
    cache.set('c', answer());
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
    expect(cache.stats().bytes).toBeLessThanOrEqual(one * 2 + 10);
  });

  it('refuses a single answer larger than max_bytes', () => {
    const { cache } = makeCache({ max_bytes: 200 });
    expect(cache.set('big', answer({ content: 'x'.repeat(500) }))).toBe(false);
    expect(cache.get('big')).toBeUndefined();
  });

  it('measures size in bytes, not characters', () => {
    const { cache } = makeCache({ max_bytes: 400 });
    // 150 characters, 450 bytes of UTF-8.
    expect(cache.set('k', answer({ content: '€'.repeat(150) }))).toBe(false);
  });
});

describe('ResponseCache.replay', () => {
  const { cache } = makeCache();

  it('replays text as word-sized deltas that concatenate to the original, then finish and usage', async () => {
    const a = answer({ content: '  Two plus two\nis four.  ' });
    const events = await collect(cache.replay(a));
    expect(events[0]).toEqual({ type: 'model', model: 'gpt-small-2025-01-01' });
    const texts = events.filter((e) => e.type === 'text').map((e) => e.text);
    expect(texts.length).toBeGreaterThan(3);
    expect(texts.join('')).toBe(a.result.content);
    expect(events.slice(-2)).toEqual([
      { type: 'finish', reason: 'stop' },
      { type: 'usage', usage: { prompt_tokens: 12, completion_tokens: 6 } },
    ]);
  });

  it('falls back to the catalog id when the provider name is unknown', async () => {
    const events = await collect(cache.replay(answer({ upstream_model: undefined })));
    expect(events[0]).toEqual({ type: 'model', model: 'gpt-small' });
  });

  it('replays tool calls intact, one event per call with its index', async () => {
    const tool_calls = [
      { id: 'call_1', type: 'function' as const, function: { name: 'add', arguments: '{"a":2,"b":2}' } },
      { id: 'call_2', type: 'function' as const, function: { name: 'log', arguments: '{}' } },
    ];
    const events = await collect(
      cache.replay(answer({ content: null, tool_calls, finish_reason: 'tool_calls' })),
    );
    expect(events.filter((e) => e.type === 'text')).toEqual([]);
    expect(events.filter((e) => e.type === 'tool_call')).toEqual([
      { type: 'tool_call', index: 0, id: 'call_1', name: 'add', arguments: '{"a":2,"b":2}' },
      { type: 'tool_call', index: 1, id: 'call_2', name: 'log', arguments: '{}' },
    ]);
    expect(events.at(-2)).toEqual({ type: 'finish', reason: 'tool_calls' });
    expect(events.at(-1)?.type).toBe('usage');
  });

  it('round-trips through StreamRecorder', async () => {
    const a = answer({
      content: 'Calling a tool.',
      tool_calls: [{ id: 'c1', type: 'function', function: { name: 'add', arguments: '{"a":1}' } }],
      finish_reason: 'tool_calls',
    });
    const rec = new StreamRecorder();
    for await (const e of cache.replay(a)) rec.push(e);
    expect(rec.result()).toEqual(a.result);
  });
});

describe('StreamRecorder', () => {
  it('joins argument fragments per index and orders calls by index', () => {
    const rec = new StreamRecorder();
    const events: StreamEvent[] = [
      { type: 'model', model: 'm-1' },
      { type: 'tool_call', index: 1, id: 'b', name: 'second', arguments: '{"x"' },
      { type: 'tool_call', index: 0, id: 'a', name: 'first', arguments: '{}' },
      { type: 'tool_call', index: 1, arguments: ':1}' },
      { type: 'finish', reason: 'stop' },
      { type: 'usage', usage: { prompt_tokens: 3, completion_tokens: 4 } },
    ];
    for (const e of events) rec.push(e);
    expect(rec.result()).toEqual({
      content: null,
      tool_calls: [
        { id: 'a', type: 'function', function: { name: 'first', arguments: '{}' } },
        { id: 'b', type: 'function', function: { name: 'second', arguments: '{"x":1}' } },
      ],
      // A stream with tool calls that says 'stop' is a tool_calls answer, as chat.ts reports it.
      finish_reason: 'tool_calls',
      usage: { prompt_tokens: 3, completion_tokens: 4 },
      upstream_model: 'm-1',
    });
  });

  it('gives nothing for a stream that never finished', () => {
    const rec = new StreamRecorder();
    rec.push({ type: 'text', text: 'partial' });
    expect(rec.result()).toBeUndefined();
  });
});
