/** Every answer's shape: JSON bodies, chunk streams, usage, the `quorum` record — one module for all paths. */
export { chunkJson } from './chunks.ts';
export { completionBody, publicAttempts, type QuorumRecord } from './completion.ts';
export {
  type ChatMeta,
  type ChatReply,
  cachedReply,
  completionReply,
  type FinishedAnswer,
  finishedReply,
  LiveStream,
  liveReply,
  NO_USAGE,
  quorumRecord,
  ReplyStream,
  roundMs,
  streamReply,
} from './reply.ts';
export { type StreamReplyOptions, type StreamSource, streamChunks, streamFailure } from './stream.ts';
export { addUsage, usageBody } from './usage.ts';
