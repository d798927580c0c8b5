import { isMap, isScalar, isSeq } from "yaml";
import { deref, failAt, type YamlSource } from "./source.js";

/** `FEDML_ENV_<PATH_IN_UPPER_SNAKE>` for a key path such as ["data_args", "dataset_name"]. */
export function extraEnvName(path: readonly string[]): string {
  return ["FEDML_ENV", ...path].map((part) => part.toUpperCase().replace(/[^A-Z0-9]/g, "_")).join("_");
}

/** What the flattened variables may add up to (limits.ts), and what they use so far. */
export interface EnvBudget {
  maxVars: number;
  maxChars: number;
  vars: number;
  chars: number;
}

/**
 * Flattens every leaf under `node` into `out`, as the original passes non-reserved keys to
 * the job: maps by key, lists by index, scalars as written (null -> ""). Fails once the
 * variables pass the budget: they travel with every assignment and into every job's
 * environment, where the kernel caps the total.
 */
export function flattenIntoEnv(
  src: YamlSource,
  node: unknown,
  path: readonly string[],
  out: Record<string, string>,
  budget: EnvBudget,
): void {
  walk(src, node, path, out, budget, 0);
}

function walk(
  src: YamlSource,
  node: unknown,
  path: readonly string[],
  out: Record<string, string>,
  budget: EnvBudget,
  depth: number,
): void {
  const n = deref(src, node);
  // Bounds (limits.ts) already refused deeper documents; this guards the recursion itself.
  if (depth > 64) failAt(src, n, path.join("."), "nested too deeply");
  if (isMap(n)) {
    for (const pair of n.items) {
      const key = deref(src, pair.key);
      const name = isScalar(key) ? String(key.source ?? key.value) : "";
      if (name === "") failAt(src, pair.key ?? n, path.join("."), "keys must be plain text");
      walk(src, pair.value, [...path, name], out, budget, depth + 1);
    }
  } else if (isSeq(n)) {
    n.items.forEach((item, i) => {
      walk(src, item, [...path, String(i)], out, budget, depth + 1);
    });
  } else {
    const name = extraEnvName(path);
    const value = leafText(n);
    const previous = out[name];
    budget.vars += previous === undefined ? 1 : 0;
    budget.chars += name.length + value.length - (previous === undefined ? 0 : name.length + previous.length);
    if (budget.vars > budget.maxVars) {
      failAt(
        src,
        n,
        path.join("."),
        `more than ${budget.maxVars} values outside the reserved keys (each becomes a FEDML_ENV_* variable)`,
      );
    }
    if (budget.chars > budget.maxChars) {
      failAt(
        src,
        n,
        path.join("."),
        `values outside the reserved keys add up to more than ${budget.maxChars} characters of FEDML_ENV_* variables`,
      );
    }
    out[name] = value;
  }
}

function leafText(node: unknown): string {
  if (!isScalar(node) || node.value === null || node.value === undefined) return "";
  if (typeof node.value === "string") return node.value;
  if (typeof node.value === "number") return node.source ?? String(node.value);
  return String(node.value);
}
