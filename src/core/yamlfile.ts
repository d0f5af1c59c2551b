import { LineCounter, parseDocument, isMap, isScalar, isSeq, isPair, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import type { Diagnostic, Range } from './diagnostics';

export type PathSegment = string | number;

/** A parsed YAML file that can map a data path back to its place in the text. */
export class YamlFile {
  private constructor(
    readonly file: string,
    readonly text: string,
    readonly data: unknown,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  /** Parses `text`; syntax errors come back as located diagnostics and no data. */
  static parse(file: string, text: string): { yaml?: YamlFile; diagnostics: Diagnostic[] } {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const diagnostics: Diagnostic[] = [];
    for (const err of doc.errors) {
      const [start, end] = err.pos;
      diagnostics.push({
        file,
        range: offsetsToRange(lines, start, end),
        message: `YAML: ${firstLine(err.message)}`,
        severity: 'error',
        code: 'yaml',
      });
    }
    if (diagnostics.length) return { diagnostics };
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      // An alias bomb ("billion laughs") or an alias the parser cannot resolve: an error, not a crash.
      return { diagnostics: [{ file, range: offsetsToRange(lines, 0, 0), message: `YAML: ${firstLine((err as Error).message)}`, severity: 'error', code: 'yaml' }] };
    }
    return { yaml: new YamlFile(file, text, data, doc, lines), diagnostics };
  }

  /** Range of the node at `path`, or of its nearest existing ancestor. */
  rangeOf(path: readonly PathSegment[], which: 'value' | 'key' = 'value'): Range {
    for (let len = path.length; len >= 0; len--) {
      const sub = path.slice(0, len);
      if (which === 'key' && len === path.length && len > 0) {
        const parent = len === 1 ? this.doc.contents : this.doc.getIn(sub.slice(0, -1), true);
        if (isMap(parent)) {
          const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(sub[len - 1]));
          const key = pair?.key as YamlNode | undefined;
          if (key?.range) return offsetsToRange(this.lines, key.range[0], key.range[1]);
        }
      }
      const node = (len === 0 ? this.doc.contents : this.doc.getIn(sub, true)) as YamlNode | undefined;
      if (node && node.range) return offsetsToRange(this.lines, node.range[0], node.range[1]);
    }
    return { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  }

  /**
   * Where the first character of a string scalar's value sits, and how its lines map to the file:
   * block scalars (`|`, `>`) keep line structure, so template line N is file line `line + N`.
   */
  scalarOrigin(path: readonly PathSegment[]): { line: number; character: number; block: boolean } {
    const node = this.doc.getIn(path, true) as YamlNode | undefined;
    if (!node || !isScalar(node) || !node.range) {
      const r = this.rangeOf(path);
      return { line: r.start.line, character: r.start.character, block: false };
    }
    const start = this.lines.linePos(node.range[0]);
    const block = node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED';
    if (!block) {
      const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
      return { line: start.line - 1, character: start.col - 1 + (quoted ? 1 : 0), block: false };
    }
    // Block scalar: content starts on the line after the header; indentation is that of its first line.
    const headerLine = start.line; // one-based line of `|`
    const allLines = this.text.split('\n');
    let contentLine = headerLine; // zero-based index of the next line
    while (contentLine < allLines.length && allLines[contentLine].trim() === '') contentLine++;
    const indent = (allLines[contentLine] ?? '').match(/^ */)![0].length;
    return { line: headerLine, character: indent, block: true };
  }

  /** Turns zod issues into located diagnostics. */
  schemaDiagnostics(error: z.ZodError, basePath: readonly PathSegment[] = []): Diagnostic[] {
    return error.issues.map((issue) => {
      const path = [...basePath, ...(issue.path as PathSegment[])];
      let message = issue.message;
      let range: Range;
      if (issue.code === 'unrecognized_keys') {
        const keys = (issue as { keys: string[] }).keys;
        range = this.rangeOf([...path, keys[0]], 'key');
        message = `unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')}`;
      } else {
        range = this.rangeOf(path);
      }
      const where = path.length ? ` (at ${formatPath(path)})` : '';
      return { file: this.file, range, message: `${message}${where}`, severity: 'error' as const, code: 'schema' };
    });
  }

  hasPath(path: readonly PathSegment[]): boolean {
    return this.doc.hasIn(path);
  }

  isSeqAt(path: readonly PathSegment[]): boolean {
    return isSeq(this.doc.getIn(path, true));
  }
}

export function formatPath(path: readonly PathSegment[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function offsetsToRange(lines: LineCounter, start: number, end: number): Range {
  const s = lines.linePos(start);
  const e = lines.linePos(Math.max(start, end));
  return { start: { line: s.line - 1, character: s.col - 1 }, end: { line: e.line - 1, character: e.col - 1 } };
}

function firstLine(text: string): string {
  return text.split('\n')[0];
}
