/** The stages of one request — plan → admit → execute → reply → settle — and the flows built from them. */
export { admitRequest } from './admit.ts';
export { chatCompletion } from './chat.ts';
export { createEmbeddings } from './embeddings.ts';
export { executeChain, executeFanOut } from './execute.ts';
export { ChainBounds, type ChatPlan, FanOutBounds, planChat, ReviewBounds } from './plan.ts';
export { type ReviewRun, runReview } from './review.ts';
