import { z } from 'zod';
import { checkSampling, EnsembleMemberSchema, SamplingDefaults } from './ensemble-members.ts';

/** The fan-out strategies a request may name. */
export const STRATEGIES = ['consensus', 'best_of_n', 'ensemble', 'fusion', 'review'] as const;

/**
 * The OpenAI chat-completions request, the gateway's one internal request shape. Unknown top-level
 * fields (seed, user, logit_bias, …) are kept so OpenAI-compatible upstreams still receive them.
 */
const TextPart = z.object({ type: z.literal('text'), text: z.string() });
const ImagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({ url: z.string().min(1), detail: z.enum(['auto', 'low', 'high']).optional() }),
});
const AudioPart = z.object({
  type: z.literal('input_audio'),
  input_audio: z.object({ data: z.string(), format: z.string() }),
});
const FilePart = z.object({
  type: z.literal('file'),
  file: z.object({
    file_data: z.string().optional(),
    file_id: z.string().optional(),
    filename: z.string().optional(),
  }),
});
const RefusalPart = z.object({ type: z.literal('refusal'), refusal: z.string() });

const UserPart = z.discriminatedUnion('type', [TextPart, ImagePart, AudioPart, FilePart]);
const TextContent = z.union([z.string(), z.array(TextPart)]);

export const ToolCallSchema = z.object({
  id: z.string(),
  type: z.literal('function'),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

const SystemMessage = z.object({
  role: z.literal('system'),
  content: TextContent,
  name: z.string().optional(),
});
const DeveloperMessage = z.object({
  role: z.literal('developer'),
  content: TextContent,
  name: z.string().optional(),
});
const UserMessage = z.object({
  role: z.literal('user'),
  content: z.union([z.string(), z.array(UserPart)]),
  name: z.string().optional(),
});
const AssistantMessage = z.object({
  role: z.literal('assistant'),
  content: z.union([z.string(), z.array(z.union([TextPart, RefusalPart]))]).nullish(),
  tool_calls: z.array(ToolCallSchema).optional(),
  refusal: z.string().nullish(),
  name: z.string().optional(),
});
const ToolMessage = z.object({ role: z.literal('tool'), content: TextContent, tool_call_id: z.string() });

export const MessageSchema = z.discriminatedUnion('role', [
  SystemMessage,
  DeveloperMessage,
  UserMessage,
  AssistantMessage,
  ToolMessage,
]);

export const ToolSchema = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'tool names are 1-64 letters, digits, _ or -'),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullish(),
  }),
});

const ToolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
]);

const ResponseFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string(),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

/** The `quorum` extension field; later issues give these meaning beyond validation. */
export const QuorumOptionsSchema = z.object({
  route: z
    .object({
      policy: z.enum(['cost', 'balanced', 'quality', 'latency']).optional(),
      models: z.array(z.string()).optional(),
      min_quality: z.number().min(0).max(1).optional(),
      max_cost_usd: z.number().nonnegative().optional(),
    })
    .optional(),
  fallbacks: z.array(z.string()).optional(),
  ensemble: z
    .object({
      strategy: z.enum(STRATEGIES),
      /** Model names, or self-ensemble entries `{model, samples, temperature | temperatures}`. */
      models: z.array(EnsembleMemberSchema).optional(),
      ...SamplingDefaults,
      judge: z.string().optional(),
      /** fusion: writes the final answer from the candidates and the judge's analysis (default: the judge). */
      synthesizer: z.string().optional(),
      quorum: z.number().int().positive().optional(),
      /** ensemble: proposer layers (mixture-of-agents depth). */
      layers: z.number().int().min(1).max(4).optional(),
    })
    .superRefine(checkSampling)
    .optional(),
  cache: z.boolean().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  /** Fan-outs: a failed judge or reviewer makes the request a 502 instead of a degraded answer. */
  strict: z.boolean().optional(),
});

export const ChatRequestSchema = z
  .looseObject({
    model: z.string().min(1),
    messages: z.array(MessageSchema).min(1),
    tools: z.array(ToolSchema).optional(),
    tool_choice: ToolChoice.optional(),
    parallel_tool_calls: z.boolean().optional(),
    response_format: ResponseFormat.optional(),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    max_tokens: z.number().int().positive().nullish(),
    max_completion_tokens: z.number().int().positive().nullish(),
    stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
    n: z.literal(1, { message: 'n must be 1; ask for several answers with quorum.ensemble' }).nullish(),
    quorum: QuorumOptionsSchema.optional(),
  })
  // zod's own metadata: the OpenAPI document names the component by this id.
  .meta({ id: 'ChatCompletionRequest' });

export type ChatRequest = z.infer<typeof ChatRequestSchema>;
export type ChatMessage = z.infer<typeof MessageSchema>;
export type ChatTool = z.infer<typeof ToolSchema>;
export type ToolCall = z.infer<typeof ToolCallSchema>;
export type UserContentPart = z.infer<typeof UserPart>;
export type QuorumOptions = z.infer<typeof QuorumOptionsSchema>;
