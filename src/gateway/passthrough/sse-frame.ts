/** One server-sent event as a raw stream passes it on: its name, and its data unchanged. */
export function sseFrame(name: string | undefined, data: string): string {
  const head = name ? `event: ${name}\n` : '';
  if (!data.includes('\n')) return `${head}data: ${data}\n\n`;
  return `${head}${data
    .split('\n')
    .map((line) => `data: ${line}\n`)
    .join('')}\n`;
}
