/** The request log: one record per proxied request, its live tail, and the record's API shape. */
export { CLIENT_CLOSED } from './build.ts';
export { CONTENT_BUDGET } from './clip.ts';
export { RequestDraft, type RequestEnd } from './draft.ts';
export { matches, type RequestFilter } from './filter.ts';
export {
  type PanelView,
  type RequestRecord,
  type RequestSummary,
  recordView,
  SURFACE_NAMES,
  type Surface,
  summaryView,
  surfaceOf,
} from './record.ts';
export { RequestLog, type RequestLogOptions } from './request-log.ts';
export { Published, TailHub } from './tail-hub.ts';
