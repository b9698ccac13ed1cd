// The plain block YAML that kubeconfigs are written in (by kubectl, by the yaml
// package in tug, by hand): nested mappings and sequences, plain, quoted and
// boolean/null scalars, comments; or JSON. Anything else (block and multi-line
// scalars, anchors, tags, flow collections other than JSON, numbers, merge
// keys, tabs) gives undefined rather than a guess. For the agent's early Lease
// renewal (node/early-lease.ts), which must start in milliseconds and loads
// only node: built-ins: when this reader gives up, the agent proper reads the
// file with the yaml package, as always.

interface Line {
  indent: number;
  text: string;
}

class Unsupported extends Error {}

const fail = (why: string): never => {
  throw new Unsupported(why);
};

export function parseBlockYaml(source: string): unknown {
  try {
    const trimmed = source.trimStart();
    if (trimmed.startsWith('{')) return JSON.parse(trimmed);
    const lines: Line[] = [];
    for (const raw of source.split(/\r?\n/)) {
      const text = raw.trimEnd();
      const body = text.trimStart();
      if (!body || body.startsWith('#')) continue;
      if (/^[ ]*\t/.test(text)) fail('tab indentation');
      if (lines.length === 0 && body === '---') continue;
      if (body === '---' || body === '...' || body.startsWith('%')) fail('several documents or directives');
      lines.push({ indent: text.length - body.length, text: body });
    }
    if (lines.length === 0) return null;
    const p = new Parser(lines);
    const value = p.node(0, lines[0]!.indent);
    if (p.i !== lines.length) fail('content after the document');
    return value;
  } catch (err) {
    if (err instanceof Unsupported || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

const isItem = (text: string): boolean => text === '-' || text.startsWith('- ');

class Parser {
  i = 0;
  constructor(private readonly lines: Line[]) {}

  /** The node starting at line i, which sits at `indent`. */
  node(i: number, indent: number): unknown {
    this.i = i;
    const line = this.lines[i]!;
    if (line.indent !== indent) fail('unexpected indentation');
    return isItem(line.text) ? this.sequence(indent) : this.mapping(indent);
  }

  private sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    while (this.i < this.lines.length && this.lines[this.i]!.indent === indent && isItem(this.lines[this.i]!.text)) {
      const line = this.lines[this.i]!;
      const rest = line.text.slice(1).trimStart();
      if (!rest) {
        out.push(this.nested(indent, false));
        continue;
      }
      if (isItem(rest)) fail('a sequence inside a sequence item');
      const column = indent + (line.text.length - rest.length);
      if (splitKey(rest)) {
        // "- key: value": a mapping whose keys sit at the column of the first one.
        this.lines[this.i] = { indent: column, text: rest };
        out.push(this.mapping(column));
      } else {
        out.push(scalar(rest));
        this.i++;
      }
    }
    if (this.i < this.lines.length && this.lines[this.i]!.indent > indent) fail('unexpected indentation');
    return out;
  }

  private mapping(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    while (this.i < this.lines.length && this.lines[this.i]!.indent === indent && !isItem(this.lines[this.i]!.text)) {
      const kv = splitKey(this.lines[this.i]!.text) ?? fail('not a mapping entry');
      if (kv.key === '<<' || Object.hasOwn(out, kv.key)) fail('a merge key or a repeated key');
      if (kv.value) {
        out[kv.key] = scalar(kv.value);
        this.i++;
      } else {
        out[kv.key] = this.nested(indent, true);
      }
    }
    if (this.i < this.lines.length && this.lines[this.i]!.indent > indent) fail('unexpected indentation');
    return out;
  }

  /** The value of a key or item with nothing after it: the more indented block below (or a sequence at the key's own indent), else null. */
  private nested(indent: number, sameIndentSequence: boolean): unknown {
    const next = this.lines[this.i + 1];
    if (next && (next.indent > indent || (sameIndentSequence && next.indent === indent && isItem(next.text)))) return this.node(this.i + 1, next.indent);
    this.i++;
    return null;
  }
}

/** "key: value" or "key:" (the value ''), with a plain or quoted key; undefined when the text is no mapping entry. */
function splitKey(text: string): { key: string; value: string } | undefined {
  if (text.startsWith('"') || text.startsWith("'")) {
    const { value, end } = quoted(text);
    const after = text.slice(end);
    if (after !== ':' && !after.startsWith(': ')) return undefined;
    return { key: value, value: after.slice(1).trim() };
  }
  const m = /^([^\s#][^#]*?):(?: +(.*))?$/.exec(text);
  if (!m || /[[\]{}&*!|>%@`]/.test(m[1]![0]!)) return undefined;
  if (m[1]!.includes(': ')) return undefined;
  return { key: m[1]!, value: (m[2] ?? '').trim() };
}

/** A quoted scalar at the start of text, and where it ends. */
function quoted(text: string): { value: string; end: number } {
  const q = text[0]!;
  let out = '';
  for (let i = 1; i < text.length; i++) {
    const c = text[i]!;
    if (q === "'") {
      if (c === "'") {
        if (text[i + 1] === "'") {
          out += "'";
          i++;
          continue;
        }
        return { value: out, end: i + 1 };
      }
      out += c;
      continue;
    }
    if (c === '"') return { value: out, end: i + 1 };
    if (c === '\\') {
      const e = text[++i];
      const known: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', n: '\n', t: '\t', r: '\r', ' ': ' ' };
      out += (e !== undefined && known[e]) ?? fail('an escape this reader does not know');
      continue;
    }
    out += c;
  }
  return fail('an unterminated quoted scalar');
}

const numberLike = /^(?:[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|[-+]?\.[0-9]+(?:[eE][-+]?[0-9]+)?|0x[0-9a-fA-F]+|0o[0-7]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

/** A scalar value (after "key: " or "- "), comments stripped. */
function scalar(text: string): unknown {
  if (text.startsWith('"') || text.startsWith("'")) {
    const { value, end } = quoted(text);
    const after = text.slice(end).trim();
    if (after && !after.startsWith('#')) fail('text after a quoted scalar');
    return value;
  }
  if (text.startsWith('{') || text.startsWith('[')) return JSON.parse(text.replace(/\s+#.*$/, ''));
  const plain = text.replace(/\s+#.*$/, '');
  if (/^[&*!|>%@`]/.test(plain) || plain.includes(': ') || plain.endsWith(':')) fail('a scalar this reader does not take');
  if (/^(?:true|True|TRUE)$/.test(plain)) return true;
  if (/^(?:false|False|FALSE)$/.test(plain)) return false;
  if (/^(?:null|Null|NULL|~)$/.test(plain)) return null;
  if (numberLike.test(plain)) fail('a number');
  return plain;
}
