export { type AnthropicErrorBody, anthropicError } from './anthropic-shape.ts';
export {
  ERROR_TABLE,
  type ErrorKind,
  GatewayError,
  type GatewayErrorOptions,
  type OpenAIErrorBody,
  strategyError,
  toGatewayError,
} from './gateway-error.ts';
