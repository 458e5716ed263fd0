/** The workflow engine: scheduling, step execution, human corrections, durability. */
export { type Approval, Engine, type EngineOptions, type StartOptions } from './engine.ts';
export { EngineError, type EngineErrorCode } from './errors.ts';
export { type ExecuteStepInput, executeStep, StepError, type StepOutcome } from './execute-step.ts';
export { type JudgeScore, parseJsonReply, parseJudgeReply } from './parse-reply.ts';
export type {
  ReviewVerdict,
  RunnerKind,
  RunnerMessage,
  RunnerRequest,
  RunnerResult,
  StepRunner,
} from './runner.ts';
