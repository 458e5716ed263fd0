/** Learning from outcomes: each model's quality per category, estimated from what happens after routing. */
export { type FeedbackOutcome, Learner, type LearnerOptions, type LearningEntry } from './learner.ts';
export type { SignalName } from './signals.ts';
