/**
 * Embedding vectors between their two wire forms — JSON floats and OpenAI's base64 (the float32 values'
 * little-endian bytes) — and the input list a request's `input` stands for.
 */
import type { EmbedInputs, EncodingFormat, Vector } from './types.ts';

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Floats as base64 float32 (what OpenAI sends for `encoding_format: "base64"`). */
export function floatsToBase64(values: readonly number[]): string {
  const floats = Float32Array.from(values);
  if (LITTLE_ENDIAN) return Buffer.from(floats.buffer).toString('base64');
  const bytes = Buffer.alloc(values.length * 4);
  for (let i = 0; i < floats.length; i++) bytes.writeFloatLE(floats[i]!, i * 4);
  return bytes.toString('base64');
}

/** Base64 float32 back to floats; null when the text is not whole float32 values. */
export function base64ToFloats(text: string): number[] | null {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 4 !== 0) return null;
  const out = new Array<number>(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}

/** A vector in the form the client asked for. */
export function encodeVector(vector: Vector, format: EncodingFormat): number[] | string {
  if (format === 'base64') return typeof vector === 'string' ? vector : floatsToBase64(vector);
  return typeof vector === 'string' ? (base64ToFloats(vector) ?? []) : vector;
}

/** How many dimensions a vector has, in either form. */
export function dimensionsOf(vector: Vector): number {
  return typeof vector === 'string' ? Math.floor(Buffer.byteLength(vector, 'base64') / 4) : vector.length;
}

/** Scales a vector to unit length (a zero vector stays as it is). */
export function normalize(values: readonly number[]): number[] {
  let sum = 0;
  for (const v of values) sum += v * v;
  const norm = Math.sqrt(sum);
  return norm > 0 ? values.map((v) => v / norm) : [...values];
}

/** The request's `input` as a list: one text or one token array becomes a list of one. */
export function inputList(input: string | string[] | number[] | number[][]): EmbedInputs {
  if (typeof input === 'string') return [input];
  if (input.length > 0 && typeof input[0] === 'number') return [input as number[]];
  return input as EmbedInputs;
}

/** True when the inputs are token ids rather than text. */
export function isTokenInput(inputs: EmbedInputs): inputs is number[][] {
  return inputs.length > 0 && typeof inputs[0] !== 'string';
}
