export {
  ERROR_TABLE,
  type ErrorKind,
  GatewayError,
  type GatewayErrorOptions,
  type OpenAIErrorBody,
  toGatewayError,
} from './gateway-error.ts';
