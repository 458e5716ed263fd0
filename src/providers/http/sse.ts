/**
 * A minimal server-sent-events reader: bytes in, each event's `data` out, as the bytes arrive. Only
 * what providers use is kept — `data` (several lines joined by `\n`) and `event`; `id`, `retry` and
 * comments are skipped. Lines end with `\n`, `\r\n` or `\r`, also when a chunk splits them.
 */
import { StringDecoder } from 'node:string_decoder';

/**
 * Called once per complete event (its blank line seen). Returns false to stop reading: the stream's
 * terminator (`[DONE]`) was seen and nothing after it counts. Throwing fails the stream with that error.
 */
export type SseEventHandler = (data: string, event: string | undefined) => boolean;

const LF = 10;
const COLON = 58;
const SPACE = 32;

export class SseSplitter {
  readonly #decoder = new StringDecoder('utf8');
  /** The start of a line that has not ended yet (pieces joined lazily: a long line is not rescanned). */
  #open = '';
  /** The data lines of the event being read; undefined until it has one. */
  #data: string | undefined = undefined;
  #event: string | undefined = undefined;
  /** The last piece ended with `\r`: a `\n` starting the next one ends no second line. */
  #afterCR = false;
  #stopped = false;

  /** Feeds bytes; returns false once the handler asked to stop (later bytes are ignored). */
  push(chunk: Buffer, onEvent: SseEventHandler): boolean {
    if (this.#stopped) return false;
    const piece = this.#decoder.write(chunk);
    let start = 0;
    if (this.#afterCR && piece.length > 0) {
      this.#afterCR = false;
      if (piece.charCodeAt(0) === LF) start = 1;
    }
    // Most providers end lines with `\n` only: look for `\r` at all once per piece.
    const hasCR = piece.indexOf('\r', start) !== -1;
    const length = piece.length;
    while (start < length) {
      let end = piece.indexOf('\n', start);
      let next = end + 1;
      if (hasCR) {
        const cr = piece.indexOf('\r', start);
        if (cr !== -1 && (end === -1 || cr < end)) {
          end = cr;
          if (cr + 1 === length) {
            next = length;
            this.#afterCR = true;
          } else next = piece.charCodeAt(cr + 1) === LF ? cr + 2 : cr + 1;
        }
      }
      if (end === -1) break;
      let line = piece.slice(start, end);
      if (this.#open) {
        line = this.#open + line;
        this.#open = '';
      }
      start = next;
      if (!this.#line(line, onEvent)) {
        this.#stopped = true;
        return false;
      }
    }
    if (start < length) this.#open += start === 0 ? piece : piece.slice(start);
    return true;
  }

  #line(line: string, onEvent: SseEventHandler): boolean {
    if (line.length === 0) {
      // The blank line ends an event; one without data is no event (a named ping, a lone comment).
      const data = this.#data;
      const event = this.#event;
      this.#data = undefined;
      this.#event = undefined;
      return data === undefined ? true : onEvent(data, event);
    }
    const first = line.charCodeAt(0);
    if (first === COLON) return true;
    // The common case first: `data: {...}`.
    if (first === 100 && line.startsWith('data:')) {
      const value = line.charCodeAt(5) === SPACE ? line.slice(6) : line.slice(5);
      this.#data = this.#data === undefined ? value : `${this.#data}\n${value}`;
      return true;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value =
      colon === -1 ? '' : line.slice(line.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1);
    if (field === 'data') this.#data = this.#data === undefined ? value : `${this.#data}\n${value}`;
    else if (field === 'event') this.#event = value;
    return true;
  }
}
