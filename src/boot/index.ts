/** Start-up and shut-down of a Quorum process: one boot sequence, and the workers of `serve --workers`. */
export { type Booted, type BootOptions, boot, distributedWorkflows } from './boot.ts';
export { BootError, type BootStep } from './errors.ts';
export type { Http, HttpOptions } from './http.ts';
export { openServices, type Services } from './services.ts';
