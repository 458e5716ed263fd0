/**
 * The Anthropic Messages request (POST /v1/messages) and its token-count variant, as far as the
 * gateway checks it before any call: what must be there and of which type, so bad input is a 400 naming
 * the field. Everything else — unknown fields, new block types, `cache_control` — is kept as sent: an
 * Anthropic model receives the client's own bytes, and the translation refuses what it cannot carry.
 */
import { z } from 'zod';
import { QuorumOptionsSchema } from '../chat/index.ts';

const Source = z.looseObject({ type: z.string().min(1) });

/** The required fields of the block types the gateway reads; other types are passed on unchecked. */
const KNOWN_BLOCKS: Record<string, z.ZodType> = {
  text: z.looseObject({ text: z.string() }),
  image: z.looseObject({ source: Source }),
  document: z.looseObject({ source: Source }),
  tool_use: z.looseObject({ id: z.string().min(1), name: z.string().min(1), input: z.unknown() }),
  tool_result: z.looseObject({
    tool_use_id: z.string().min(1),
    content: z.union([z.string(), z.array(z.looseObject({ type: z.string().min(1) }))]).nullish(),
    is_error: z.boolean().nullish(),
  }),
  thinking: z.looseObject({ thinking: z.string(), signature: z.string() }),
  redacted_thinking: z.looseObject({ data: z.string() }),
};

/** A content block: any object with a `type`; the known types' fields checked, with their paths. */
const Block = z.looseObject({ type: z.string().min(1) }).superRefine((block, ctx) => {
  const schema = KNOWN_BLOCKS[block.type];
  if (!schema || !Object.hasOwn(KNOWN_BLOCKS, block.type)) return;
  const result = schema.safeParse(block);
  if (result.success) return;
  for (const issue of result.error.issues) {
    ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path as PropertyKey[] });
  }
});

const TextBlock = z.looseObject({ type: z.literal('text'), text: z.string() });

const Message = z.looseObject({
  role: z.enum(['user', 'assistant', 'system'], {
    message: 'a message role is user or assistant (or system)',
  }),
  content: z.union([z.string(), z.array(Block)], {
    message: 'content is a string or an array of content blocks',
  }),
});

const Tool = z.looseObject({ name: z.string().min(1), type: z.string().nullish() });

const ToolChoice = z.looseObject({
  type: z.enum(['auto', 'any', 'tool', 'none']),
  name: z.string().optional(),
  disable_parallel_tool_use: z.boolean().optional(),
});

const Thinking = z.looseObject({
  type: z.string().min(1),
  budget_tokens: z.number().int().positive().optional(),
});

/** What a Messages request and a token count share. */
const common = {
  model: z.string().min(1),
  messages: z.array(Message).min(1, 'at least one message is required'),
  system: z.union([z.string(), z.array(TextBlock)]).nullish(),
  tools: z.array(Tool).nullish(),
  tool_choice: ToolChoice.nullish(),
  thinking: Thinking.nullish(),
  /** Quorum's extension (fallbacks, tags, routing, ensembles); never sent upstream. */
  quorum: QuorumOptionsSchema.optional(),
};

export const MessagesRequestSchema = z
  .looseObject({
    ...common,
    max_tokens: z
      .number({ error: (issue) => (issue.input === undefined ? 'Field required' : undefined) })
      .int()
      .nonnegative(),
    stream: z.boolean().nullish(),
    stop_sequences: z.array(z.string()).nullish(),
    temperature: z.number().min(0).max(1).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    top_k: z.number().int().nonnegative().nullish(),
    metadata: z.looseObject({ user_id: z.string().nullish() }).nullish(),
  })
  .meta({ id: 'MessagesRequest' });

export const CountTokensRequestSchema = z.looseObject(common).meta({ id: 'MessagesCountTokensRequest' });

export type MessagesRequest = z.infer<typeof MessagesRequestSchema>;
export type CountTokensRequest = z.infer<typeof CountTokensRequestSchema>;
/** A content block as the translation reads it: its type and whatever else it carries. */
export type ContentBlock = { type: string; [field: string]: unknown };
export type MessagesMessage = MessagesRequest['messages'][number];
