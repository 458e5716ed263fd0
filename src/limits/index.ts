export {
  ProviderQueues,
  type ProviderQueuesOptions,
  type Release,
  type RunOptions,
} from './provider-queue.ts';
