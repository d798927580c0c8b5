import { type Document, isAlias, isMap, isNode, isScalar, isSeq, type LineCounter } from "yaml";
import { FedmlError, ResultCode } from "../codes.js";

/** One thing wrong with a job YAML, at a line and column of it. */
export interface YamlIssue {
  line: number;
  col: number;
  /** Dotted key path of the field ("" for the document). */
  path: string;
  /** `<file>:<line>:<col>: <key.path>: <what is wrong>` */
  message: string;
  code: number;
}

/** The parsed document plus what is needed to point an error at a line of it. */
export interface YamlSource {
  /** File name shown in errors (basename of the YAML, or "job.yaml"). */
  file: string;
  doc: Document;
  lineCounter: LineCounter;
  /** Everything found wrong so far: a file's errors are reported together, not one per try. */
  issues: YamlIssue[];
}

/**
 * Thrown by failAt after it has recorded the issue, to abandon reading one field; `attempt`
 * catches it so that the reader goes on to the next field.
 */
class FieldAbandoned extends Error {}

/** Runs one field's reader; a failure in it is already recorded, so it answers `fallback`. */
export function attempt<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof FieldAbandoned) return fallback;
    throw err;
  }
}

/** Every recorded issue as one FedmlError (one line, sorted by position); nothing when clean. */
export function throwIssues(src: YamlSource): void {
  if (src.issues.length === 0) return;
  const issues = [...src.issues].sort((a, b) => a.line - b.line || a.col - b.col);
  // A schema error outranks "nothing to run": fixing it may be what makes the job runnable.
  const code = issues.find((i) => i.code === ResultCode.LAUNCH_JOB_STATUS_INVALID)?.code ?? issues[0].code;
  const message =
    issues.length === 1 ? issues[0].message : `${src.file}: ${issues.length} errors: ${issues.map((i) => i.message).join("; ")}`;
  throw new FedmlError(code, message);
}

/** One `key: value` of a map; `value` is null when nothing follows the colon. */
export interface Field {
  key: string;
  keyNode: unknown;
  value: unknown;
  /** Dotted key path from the top level, e.g. `computing.minimum_num_gpus`. */
  path: string;
}

/** 1-based line and column where `node` starts (1:1 when it has no position). */
export function positionOf(src: YamlSource, node: unknown): { line: number; col: number } {
  const range = isNode(node) ? node.range : undefined;
  return range ? src.lineCounter.linePos(range[0]) : { line: 1, col: 1 };
}

/** Records `<file>:<line>:<col>: <key.path>: <what>` and goes on reading. */
export function report(
  src: YamlSource,
  node: unknown,
  path: string,
  what: string,
  code: number = ResultCode.LAUNCH_JOB_STATUS_INVALID,
): void {
  const { line, col } = positionOf(src, node);
  const where = path ? `${path}: ` : "";
  src.issues.push({ line, col, path, code, message: `${src.file}:${line}:${col}: ${where}${what}` });
}

/** Records the issue and abandons the field being read (see `attempt`). */
export function failAt(
  src: YamlSource,
  node: unknown,
  path: string,
  what: string,
  code: number = ResultCode.LAUNCH_JOB_STATUS_INVALID,
): never {
  report(src, node, path, what, code);
  throw new FieldAbandoned(what);
}

/** Follows `*alias` references to the node they name. */
export function deref(src: YamlSource, node: unknown): unknown {
  let current = node;
  for (let hops = 0; isAlias(current) && hops < 100; hops++) current = current.resolve(src.doc);
  return current;
}

/** True for a missing value: no node, or an explicit null (`key:` / `key: ~`). */
export function isAbsent(src: YamlSource, node: unknown): boolean {
  const n = deref(src, node);
  return n === null || n === undefined || (isScalar(n) && n.value === null);
}

export function describeNode(src: YamlSource, node: unknown): string {
  const n = deref(src, node);
  if (isMap(n)) return "a map";
  if (isSeq(n)) return "a list";
  if (isScalar(n)) {
    if (n.value === null) return "nothing";
    if (typeof n.value === "string") return `text ${JSON.stringify(n.value)}`;
    return String(n.source ?? n.value);
  }
  return "nothing";
}

export function childPath(parent: string, key: string): string {
  return parent ? `${parent}.${key}` : key;
}

/** The fields of a map node; fails unless `node` is a map. A key that is not plain text is
 *  reported and skipped. */
export function fieldsOf(src: YamlSource, node: unknown, path: string): Field[] {
  const map = deref(src, node);
  if (!isMap(map)) failAt(src, map ?? node, path, `expected a map, got ${describeNode(src, map)}`);
  const fields: Field[] = [];
  for (const pair of map.items) {
    const keyNode = deref(src, pair.key);
    if (!isScalar(keyNode) || keyNode.value === null) {
      report(src, pair.key ?? node, path, "keys must be plain text");
      continue;
    }
    const key = String(keyNode.source ?? keyNode.value);
    fields.push({ key, keyNode, value: deref(src, pair.value), path: childPath(path, key) });
  }
  return fields;
}

/** Where an error about a field points: its value, or its key when it has no value. */
export function fieldNode(field: Field): unknown {
  return field.value ?? field.keyNode;
}

/**
 * Plain JS value of a node (maps to objects, lists to arrays), for pass-through keys. The
 * document's expanded size is bounded before any reader runs (bounds.ts), so aliases are
 * expanded without the library's own count, which would refuse small legitimate reuse.
 */
export function toPlain(src: YamlSource, node: unknown): unknown {
  const n = deref(src, node);
  return isNode(n) ? n.toJS(src.doc, { maxAliasCount: -1 }) : null;
}
