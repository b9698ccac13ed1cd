// Go's text/tabwriter as docker configures it (minwidth 10, padding 3, spaces):
// tab-separated cells are padded to the widest cell of their column; the last
// cell of each line is left as is.

export function tabwrite(text: string, minWidth = 10, padding = 3): string {
  const lines = text.split('\n');
  const trailing = lines[lines.length - 1] === '' ? lines.pop() : undefined;
  const rows = lines.map((l) => l.split('\t'));
  const widths: number[] = [];
  for (const r of rows) {
    for (let c = 0; c < r.length - 1; c++) {
      widths[c] = Math.max(widths[c] ?? 0, Math.max(minWidth, [...r[c]!].length + padding));
    }
  }
  const out = rows.map((r) =>
    r.map((cell, c) => (c < r.length - 1 ? cell + ' '.repeat(widths[c]! - [...cell].length) : cell)).join(''),
  );
  return out.join('\n') + (trailing !== undefined ? '\n' : '');
}
