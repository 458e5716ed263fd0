/** Plain-text columns; `right` are the indexes of right-aligned (numeric) columns. */
export function formatTable(
  head: string[],
  rows: string[][],
  right: ReadonlySet<number> = new Set(),
): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[head, ...rows].map(line).join('\n')}\n`;
}
