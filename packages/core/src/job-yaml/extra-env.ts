import { isMap, isScalar, isSeq } from "yaml";
import { deref, failAt, type YamlSource } from "./source.js";

/** `FEDML_ENV_<PATH_IN_UPPER_SNAKE>` for a key path such as ["data_args", "dataset_name"]. */
export function extraEnvName(path: readonly string[]): string {
  return ["FEDML_ENV", ...path].map((part) => part.toUpperCase().replace(/[^A-Z0-9]/g, "_")).join("_");
}

/**
 * Flattens every leaf under `node` into `out`, as the original passes non-reserved keys to
 * the job: maps by key, lists by index, scalars as written (null -> "").
 */
export function flattenIntoEnv(
  src: YamlSource,
  node: unknown,
  path: readonly string[],
  out: Record<string, string>,
  depth = 0,
): void {
  const n = deref(src, node);
  // Aliases can make a cycle (`a: &x [*x]`); no real job YAML is this deep.
  if (depth > 64) failAt(src, n, path.join("."), "nested too deeply");
  if (isMap(n)) {
    for (const pair of n.items) {
      const key = deref(src, pair.key);
      const name = isScalar(key) ? String(key.source ?? key.value) : "";
      if (name === "") failAt(src, pair.key ?? n, path.join("."), "keys must be plain text");
      flattenIntoEnv(src, pair.value, [...path, name], out, depth + 1);
    }
  } else if (isSeq(n)) {
    n.items.forEach((item, i) => {
      flattenIntoEnv(src, item, [...path, String(i)], out, depth + 1);
    });
  } else {
    out[extraEnvName(path)] = leafText(n);
  }
}

function leafText(node: unknown): string {
  if (!isScalar(node) || node.value === null || node.value === undefined) return "";
  if (typeof node.value === "string") return node.value;
  if (typeof node.value === "number") return node.source ?? String(node.value);
  return String(node.value);
}
