/**
 * GenAI semantic-convention attribute names, copied here rather than imported from the incubating
 * entry point of @opentelemetry/semantic-conventions, which may rename them between releases.
 */
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons';
export const ATTR_GEN_AI_REQUEST_MAX_TOKENS = 'gen_ai.request.max_tokens';
export const ATTR_GEN_AI_REQUEST_TEMPERATURE = 'gen_ai.request.temperature';
export const ATTR_GEN_AI_REQUEST_ENCODING_FORMATS = 'gen_ai.request.encoding_formats';
export const ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT = 'gen_ai.embeddings.dimension.count';
export const ATTR_GEN_AI_INPUT_MESSAGES = 'gen_ai.input.messages';
export const ATTR_GEN_AI_OUTPUT_MESSAGES = 'gen_ai.output.messages';
export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_SERVER_ADDRESS = 'server.address';
export const ATTR_HTTP_REQUEST_METHOD = 'http.request.method';
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';
export const ATTR_HTTP_ROUTE = 'http.route';
export const ATTR_URL_PATH = 'url.path';

export const GEN_AI_OPERATION_CHAT = 'chat';
export const GEN_AI_OPERATION_EMBEDDINGS = 'embeddings';

/** Values of gen_ai.provider.name for our provider types. */
export const GEN_AI_PROVIDER_NAMES = {
  openai: 'openai',
  anthropic: 'anthropic',
  gemini: 'gcp.gemini',
  demo: 'quorum.demo',
} as const;

export const ATTR_QUORUM_COST_USD = 'quorum.cost_usd';
export const ATTR_QUORUM_TEAM = 'quorum.team';
export const ATTR_QUORUM_REQUEST_ID = 'quorum.request_id';
export const ATTR_QUORUM_PROVIDER_ID = 'quorum.provider.id';
