// docker's list formatting: a --format that starts with "table" gets a header
// row and tab alignment; "json" prints one JSON object per row; anything else
// is a template run once per row.
import { compileTemplate } from './template.js';
import { tabwrite } from './tabwriter.js';

export function renderRows(
  format: string | undefined,
  defaultFormat: string,
  headers: Record<string, string>,
  rows: object[],
): string {
  let f = format && format !== 'table' ? format : format === 'table' ? defaultFormat : defaultFormat;
  if (f === 'json') f = '{{json .}}';
  const isTable = f.startsWith('table');
  if (isTable) f = f.slice('table'.length).replace(/^\s/, '');
  const tpl = compileTemplate(f);
  let out = '';
  if (isTable) out += `${tpl.execute(headers)}\n`;
  for (const r of rows) out += `${tpl.execute(r)}\n`;
  return isTable ? tabwrite(out) : out;
}
