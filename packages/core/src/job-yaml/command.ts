import { isScalar } from "yaml";
import type { CommandSpec } from "../jobspec.js";
import { readText } from "./scalars.js";
import { unknownKeyMessage } from "./did-you-mean.js";
import { attempt, type Field, describeNode, failAt, fieldNode, fieldsOf, isAbsent, type YamlSource } from "./source.js";

const PLATFORM_KEYS = { run_on_posix: "posix", run_on_windows: "windows" } as const;

/**
 * `job`, `bootstrap` and `server_job`: a (multi-line) string, or
 * `{run_on_posix, run_on_windows}`. Blank commands count as absent; null when neither is set.
 */
export function readCommand(src: YamlSource, field: Field): CommandSpec | null {
  if (isAbsent(src, field.value)) return null;
  const spec: CommandSpec = { posix: null, windows: null };
  if (isScalar(field.value)) {
    const text = nonBlank(readText(src, field));
    spec.posix = text;
    spec.windows = text;
  } else {
    for (const sub of fieldsOf(src, field.value, field.path)) {
      attempt(() => {
        const platform = PLATFORM_KEYS[sub.key as keyof typeof PLATFORM_KEYS];
        if (platform === undefined) {
          failAt(src, sub.keyNode, sub.path, unknownKeyMessage(sub.key, Object.keys(PLATFORM_KEYS)));
        }
        if (!isAbsent(src, sub.value) && !isScalar(sub.value)) {
          failAt(src, fieldNode(sub), sub.path, `expected commands as text, got ${describeNode(src, sub.value)}`);
        }
        spec[platform] = nonBlank(readText(src, sub));
      }, undefined);
    }
  }
  return spec.posix === null && spec.windows === null ? null : spec;
}

function nonBlank(text: string | null): string | null {
  return text !== null && text.trim() !== "" ? text : null;
}
