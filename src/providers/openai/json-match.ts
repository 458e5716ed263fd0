/**
 * Pieces of the anchored expressions that read OpenAI's most common answers without parsing them
 * (stream.ts, response.ts). Each accepts only what `JSON.parse` accepts and reads it as it would, so an
 * answer they match needs no parse; anything else is parsed as before.
 */

/** A JSON string's body: no quote, backslash or control character but as a valid escape. */
export const STRING = String.raw`(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*`;

/** A JSON non-negative integer, written as JSON writes it (no sign, no leading zero, no fraction). */
export const COUNT = '(?:0|[1-9][0-9]*)';

/** A matched string body's value: itself, or decoded when it holds escapes (already checked valid). */
export function stringValue(body: string): string {
  return body.includes('\\') ? (JSON.parse(`"${body}"`) as string) : body;
}
