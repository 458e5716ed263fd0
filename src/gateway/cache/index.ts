/** The exact-match response cache: keys, entries, and a streamed answer recorded or replayed. */
export {
  type CacheConfig,
  type CachedAnswer,
  type CachedEmbeddings,
  type CacheOptions,
  type CacheStats,
  canonicalJson,
  isCacheable,
  normaliseRequest,
  ResponseCache,
  replayEvents,
  StreamRecorder,
} from './response-cache.ts';
