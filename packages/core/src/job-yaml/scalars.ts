import { isScalar } from "yaml";
import { type Field, describeNode, failAt, fieldNode, isAbsent, type YamlSource } from "./source.js";

/** Text field; numbers are kept as written (`model_version: 1.0` -> "1.0"); absent -> null. */
export function readText(src: YamlSource, field: Field): string | null {
  if (isAbsent(src, field.value)) return null;
  const node = field.value;
  if (isScalar(node)) {
    if (typeof node.value === "string") return node.value;
    if (typeof node.value === "number" || typeof node.value === "bigint") return node.source ?? String(node.value);
  }
  return failAt(src, fieldNode(field), field.path, `expected text, got ${describeNode(src, node)}`);
}

/** Non-blank text field; absent -> null. */
export function readNonBlankText(src: YamlSource, field: Field): string | null {
  const text = readText(src, field);
  if (text !== null && text.trim() === "") {
    failAt(src, fieldNode(field), field.path, "must not be blank");
  }
  return text;
}

export function readBool(src: YamlSource, field: Field, fallback: boolean): boolean {
  if (isAbsent(src, field.value)) return fallback;
  const node = field.value;
  if (isScalar(node) && typeof node.value === "boolean") return node.value;
  return failAt(src, fieldNode(field), field.path, `expected true or false, got ${describeNode(src, node)}`);
}

/** A whole number >= 0, also accepted as digits in quotes ("2"). */
export function readWholeNumber(src: YamlSource, field: Field, fallback: number): number {
  if (isAbsent(src, field.value)) return fallback;
  const node = field.value;
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return v;
    if (typeof v === "string" && /^\s*\d+\s*$/.test(v)) return Number(v);
  }
  return failAt(src, fieldNode(field), field.path, `expected a whole number >= 0, got ${describeNode(src, node)}`);
}

/** One of `allowed`, matched case-insensitively and returned in its canonical spelling. */
export function readChoice<T extends string>(src: YamlSource, field: Field, allowed: readonly T[], fallback: T): T {
  const text = readText(src, field);
  if (text === null) return fallback;
  const wanted = text.trim().toLowerCase();
  const match = allowed.find((a) => a.toLowerCase() === wanted);
  if (match === undefined) {
    failAt(src, fieldNode(field), field.path, `${JSON.stringify(text)} is not one of ${allowed.join(", ")}`);
  }
  return match;
}
