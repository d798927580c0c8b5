import { type Document, isAlias, isMap, isNode, isScalar, isSeq, type LineCounter } from "yaml";
import { FedmlError, ResultCode } from "../codes.js";

/** The parsed document plus what is needed to point an error at a line of it. */
export interface YamlSource {
  /** File name shown in errors (basename of the YAML, or "job.yaml"). */
  file: string;
  doc: Document;
  lineCounter: LineCounter;
}

/** One `key: value` of a map; `value` is null when nothing follows the colon. */
export interface Field {
  key: string;
  keyNode: unknown;
  value: unknown;
  /** Dotted key path from the top level, e.g. `computing.minimum_num_gpus`. */
  path: string;
}

export function lineOf(src: YamlSource, node: unknown): number {
  const range = isNode(node) ? node.range : undefined;
  return range ? src.lineCounter.linePos(range[0]).line : 1;
}

/** Throws the one-line `<file>:<line>: <key.path>: <what>` error. */
export function failAt(
  src: YamlSource,
  node: unknown,
  path: string,
  what: string,
  code: number = ResultCode.LAUNCH_JOB_STATUS_INVALID,
): never {
  const where = path ? `${path}: ` : "";
  throw new FedmlError(code, `${src.file}:${lineOf(src, node)}: ${where}${what}`);
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

/** The fields of a map node; fails unless `node` is a map with plain keys. */
export function fieldsOf(src: YamlSource, node: unknown, path: string): Field[] {
  const map = deref(src, node);
  if (!isMap(map)) failAt(src, map ?? node, path, `expected a map, got ${describeNode(src, map)}`);
  return map.items.map((pair) => {
    const keyNode = deref(src, pair.key);
    if (!isScalar(keyNode) || keyNode.value === null) {
      failAt(src, pair.key ?? node, path, "keys must be plain text");
    }
    const key = String(keyNode.source ?? keyNode.value);
    return { key, keyNode, value: deref(src, pair.value), path: childPath(path, key) };
  });
}

/** Where an error about a field points: its value, or its key when it has no value. */
export function fieldNode(field: Field): unknown {
  return field.value ?? field.keyNode;
}

/** Plain JS value of a node (maps to objects, lists to arrays), for pass-through keys. */
export function toPlain(src: YamlSource, node: unknown): unknown {
  const n = deref(src, node);
  return isNode(n) ? n.toJS(src.doc) : null;
}
