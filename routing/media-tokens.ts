/**
 * Token estimates for the non-text parts of a prompt: images, files and audio. Each gives a `likely`
 * count (context-window fit) and a `most` (what reservations hold). Providers bill these very
 * differently, so `most` takes the largest of their published formulas; where nothing bounds a part
 * (a file given only by id), reservations rely on the model's context window, which caps any prompt.
 */
import type { TokenRange } from './text-tokens.ts';

/** An image whose size cannot be read (a remote URL, an unknown format). */
export const UNKNOWN_IMAGE: TokenRange = { likely: 765, most: 4000 };
/**
 * A PDF page bills ~1.5–3k text tokens plus a page image (~1.6k); small text PDFs take ~1–2 KB a page.
 * One token per decoded byte covers that; `likely` assumes a fuller 32 bytes per token.
 */
const FILE_BYTES_PER_TOKEN_MOST = 1;
const FILE_BYTES_PER_TOKEN_LIKELY = 32;
/** A file by id: its size is unknown here. */
export const FILE_BY_ID: TokenRange = { likely: 2000, most: 200_000 };
/**
 * Audio: the slowest encodings accepted (8 kHz 8-bit WAV, 8 kbps MP3) give the longest duration for a
 * byte count; billed at 50 tokens a second (Gemini bills 32, OpenAI fewer).
 */
const AUDIO_MIN_BYTES_PER_SECOND: Record<string, number> = { wav: 8000, pcm16: 16000 };
const AUDIO_FLOOR_BYTES_PER_SECOND = 1000;
const AUDIO_TOKENS_PER_SECOND_MOST = 50;
const AUDIO_TOKENS_PER_SECOND_LIKELY = 32;
const AUDIO_TYPICAL_BYTES_PER_SECOND = 16000;

/** Bytes a base64 string (optionally a data URL) decodes to. */
export function base64Bytes(data: string): number {
  const comma = data.startsWith('data:') ? data.indexOf(',') + 1 : 0;
  let len = data.length - comma;
  while (len > 0 && data.charCodeAt(comma + len - 1) === 61) len--; // trailing '='
  return Math.floor((len * 3) / 4);
}

export function fileTokens(file: { file_data?: unknown; file_id?: unknown }): TokenRange {
  if (typeof file.file_data === 'string' && file.file_data.length > 0) {
    const bytes = base64Bytes(file.file_data);
    return {
      likely: Math.ceil(bytes / FILE_BYTES_PER_TOKEN_LIKELY),
      most: Math.ceil(bytes / FILE_BYTES_PER_TOKEN_MOST),
    };
  }
  return FILE_BY_ID;
}

export function audioTokens(audio: { data?: unknown; format?: unknown }): TokenRange {
  const bytes = typeof audio.data === 'string' ? base64Bytes(audio.data) : 0;
  const format = typeof audio.format === 'string' ? audio.format.toLowerCase() : '';
  const longest = bytes / (AUDIO_MIN_BYTES_PER_SECOND[format] ?? AUDIO_FLOOR_BYTES_PER_SECOND);
  const typical = bytes / AUDIO_TYPICAL_BYTES_PER_SECOND;
  return {
    likely: Math.ceil(typical * AUDIO_TOKENS_PER_SECOND_LIKELY),
    most: Math.ceil(longest * AUDIO_TOKENS_PER_SECOND_MOST),
  };
}

/** OpenAI's tile formula: fit in 2048², shortest side to 768, 170 per 512-px tile plus 85. */
function openaiImage(width: number, height: number, detail: unknown): number {
  if (detail === 'low') return 85;
  let w = width;
  let h = height;
  const fit = Math.min(1, 2048 / Math.max(w, h));
  w *= fit;
  h *= fit;
  const shrink = Math.min(1, 768 / Math.min(w, h));
  w *= shrink;
  h *= shrink;
  return 85 + 170 * Math.ceil(w / 512) * Math.ceil(h / 512);
}

/** Anthropic: width × height / 750, images scaled down to about 1,600 tokens. */
function anthropicImage(width: number, height: number): number {
  return Math.min(1600, Math.ceil((width * height) / 750));
}

/** Gemini: 258 for a small image, else 258 per 768-px tile. */
function geminiImage(width: number, height: number): number {
  if (width <= 384 && height <= 384) return 258;
  return 258 * Math.ceil(width / 768) * Math.ceil(height / 768);
}

export function imageTokens(image: { url?: unknown; detail?: unknown }): TokenRange {
  const size = typeof image.url === 'string' ? imageSize(image.url) : null;
  if (!size) return UNKNOWN_IMAGE;
  const { width, height } = size;
  const most = Math.max(
    openaiImage(width, height, undefined),
    anthropicImage(width, height),
    geminiImage(width, height),
  );
  return { likely: openaiImage(width, height, image.detail), most };
}

/** Width and height from a base64 data URL's first bytes (PNG, GIF, JPEG, WebP), else null. */
export function imageSize(url: string): { width: number; height: number } | null {
  if (!url.startsWith('data:')) return null;
  const comma = url.indexOf(',');
  if (comma < 0 || !url.slice(0, comma).endsWith(';base64')) return null;
  let bytes: string;
  try {
    // 64 KiB of image is enough to reach a JPEG's frame header past its metadata.
    const head = url.slice(comma + 1, comma + 1 + 87_384).replace(/=+$/, '');
    bytes = atob(head.slice(0, head.length - (head.length % 4)));
  } catch {
    return null;
  }
  const b = (i: number) => bytes.charCodeAt(i);
  const be16 = (i: number) => (b(i) << 8) | b(i + 1);
  const le16 = (i: number) => b(i) | (b(i + 1) << 8);
  const ok = (width: number, height: number) => (width > 0 && height > 0 ? { width, height } : null);
  if (bytes.startsWith('\x89PNG') && bytes.length >= 24) {
    return ok(be16(16) * 65536 + be16(18), be16(20) * 65536 + be16(22));
  }
  if (bytes.startsWith('GIF8') && bytes.length >= 10) return ok(le16(6), le16(8));
  if (bytes.startsWith('RIFF') && bytes.slice(8, 12) === 'WEBP' && bytes.length >= 30) {
    const chunk = bytes.slice(12, 16);
    if (chunk === 'VP8X') return ok(1 + le16(24) + (b(26) << 16), 1 + le16(27) + (b(29) << 16));
    if (chunk === 'VP8 ') return ok(le16(26) & 0x3fff, le16(28) & 0x3fff);
    if (chunk === 'VP8L') {
      const bits = b(21) | (b(22) << 8) | (b(23) << 16) | (b(24) << 24);
      return ok((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
    }
    return null;
  }
  if (b(0) === 0xff && b(1) === 0xd8) return jpegSize(bytes);
  return null;
}

/** Walks JPEG segments to the first start-of-frame marker. */
function jpegSize(bytes: string): { width: number; height: number } | null {
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes.charCodeAt(i) !== 0xff) return null;
    const marker = bytes.charCodeAt(i + 1);
    const length = (bytes.charCodeAt(i + 2) << 8) | bytes.charCodeAt(i + 3);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      const height = (bytes.charCodeAt(i + 5) << 8) | bytes.charCodeAt(i + 6);
      const width = (bytes.charCodeAt(i + 7) << 8) | bytes.charCodeAt(i + 8);
      return width > 0 && height > 0 ? { width, height } : null;
    }
    i += 2 + length;
  }
  return null;
}
