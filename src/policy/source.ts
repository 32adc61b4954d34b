/**
 * Reading a policy file's text (YAML or JSON) into a plain value while keeping where every value and key sits,
 * so that a validation error found at an instance path (ajv's JSON Pointer) can name the file, line and column
 * a compliance officer has to edit.
 */
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { ProductError } from '../errors/catalogue.js';

export interface SourcePosition {
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

export class PolicySyntaxError extends ProductError<'PolicySyntaxError'> {
  readonly code = 'PolicySyntaxError';
  constructor(
    readonly file: string,
    readonly position: SourcePosition,
    readonly reason: string,
  ) {
    super(`${file}:${position.line}:${position.column}: ${reason}`);
  }
}

export interface PolicySource {
  readonly file: string;
  /** The parsed document as plain data (objects, arrays, strings, numbers, booleans, null). */
  readonly value: unknown;
  /**
   * Where the thing at a JSON Pointer sits: the value, or with `target: 'key'` the map key that names it (the
   * place to point at for an unknown or misspelt name). A pointer into something absent resolves to the
   * deepest part of it that exists.
   */
  locate(pointer: string, target?: 'value' | 'key'): SourcePosition;
}

/** Splits a JSON Pointer ('/reports/a~1b/0') into its unescaped segments. */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** Builds a JSON Pointer from segments, escaping '~' and '/' (the inverse of pointerSegments). */
export function toPointer(...segments: string[]): string {
  return segments.map((s) => `/${s.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** The position of a character offset in a string, for parsers that report offsets (JSON.parse). */
function positionOfOffset(text: string, offset: number): SourcePosition {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/**
 * Parses a policy file. `.json` files must be strict JSON (checked with JSON.parse first, so that a YAML-only
 * construct in a .json file is an error); both kinds are then read through the YAML parser, of which JSON is a
 * subset, to learn positions. Duplicate keys are errors: the second one would otherwise silently win.
 */
export function readPolicySource(file: string, text: string): PolicySource {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (file.toLowerCase().endsWith('.json')) {
    try {
      JSON.parse(body);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const offset = /position (\d+)/.exec(message);
      const position = offset !== null ? positionOfOffset(body, Number(offset[1])) : { line: 1, column: 1 };
      throw new PolicySyntaxError(file, position, `not valid JSON: ${message.replace(/ in JSON at position \d+.*$/s, '')}`);
    }
  }
  const lineCounter = new LineCounter();
  const document = parseDocument(body, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const problem = document.errors[0];
  if (problem !== undefined) {
    const at = lineCounter.linePos(problem.pos[0]);
    throw new PolicySyntaxError(file, { line: at.line, column: at.col }, problem.message.split('\n')[0]!);
  }
  const at = (offset: number): SourcePosition => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };
  return {
    file,
    value: document.toJS({ maxAliasCount: 100 }) as unknown,
    locate(pointer, target = 'value') {
      let node: Node | null = document.contents;
      let keyNode: Node | null = null;
      for (const segment of pointerSegments(pointer)) {
        let next: Node | null = null;
        let nextKey: Node | null = null;
        if (isMap(node)) {
          const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
          if (pair !== undefined) {
            nextKey = pair.key as Node;
            next = (pair.value as Node | null) ?? (pair.key as Node);
          }
        } else if (isSeq(node) && /^\d+$/.test(segment)) {
          next = (node.items[Number(segment)] as Node | undefined) ?? null;
        }
        if (next === null) break; // absent: point at the deepest part that exists
        node = next;
        keyNode = nextKey;
      }
      const chosen = target === 'key' && keyNode !== null ? keyNode : node;
      return at(chosen?.range?.[0] ?? 0);
    },
  };
}
