import { isAlias, isMap, isPair, isScalar, isSeq, Lexer } from "yaml";
import { FedmlError, ResultCode } from "../codes.js";
import { report, type YamlSource } from "./source.js";

/**
 * How large a job YAML may be, and how large it may expand to. A real job file is a few
 * kilobytes with a handful of anchors; these leave room for generous ones while keeping a
 * hostile document (nested aliases, ~100k keys) to milliseconds of work.
 */
export interface JobYamlLimits {
  /** Characters of YAML text. */
  maxChars: number;
  /** Keys in the whole document, as written. */
  maxKeys: number;
  /** `*alias` references, as written. */
  maxAliases: number;
  /** Nodes once every alias is expanded (what toJS or a walk would visit). */
  maxExpandedNodes: number;
  /** Maps and lists inside one another. */
  maxDepth: number;
  /** FEDML_ENV_* variables made from the free-form keys. */
  maxExtraEnvVars: number;
  /** Characters of those variables' names and values together. */
  maxExtraEnvChars: number;
}

export const DEFAULT_JOB_YAML_LIMITS: Readonly<JobYamlLimits> = {
  maxChars: 1_000_000,
  maxKeys: 10_000,
  maxAliases: 1_000,
  maxExpandedNodes: 100_000,
  maxDepth: 64,
  maxExtraEnvVars: 2_000,
  maxExtraEnvChars: 512 * 1024,
};

function refuse(file: string, what: string): never {
  throw new FedmlError(ResultCode.LAUNCH_JOB_STATUS_INVALID, `${file}: ${what}`);
}

/**
 * Before the document is built: counts keys, aliases and flow nesting on the lexer's token
 * stream (linear, no tree), stopping at the first limit passed.
 */
export function prescan(text: string, file: string, limits: JobYamlLimits): void {
  if (text.length > limits.maxChars) {
    refuse(file, `the job YAML is ${text.length} characters; at most ${limits.maxChars} are accepted`);
  }
  let keys = 0;
  let aliases = 0;
  let flowDepth = 0;
  for (const token of new Lexer().lex(text)) {
    const first = token[0];
    if (token === ":" || token === "?") {
      if (++keys > limits.maxKeys) refuse(file, `more than ${limits.maxKeys} keys; a job YAML is not a data file`);
    } else if (first === "*") {
      if (++aliases > limits.maxAliases) refuse(file, `more than ${limits.maxAliases} aliases (*name)`);
    } else if (token === "[" || token === "{") {
      if (++flowDepth > limits.maxDepth) refuse(file, `nested more than ${limits.maxDepth} levels deep`);
    } else if (token === "]" || token === "}") {
      flowDepth = Math.max(0, flowDepth - 1);
    }
  }
}

/**
 * After the document is built, before any reader walks it: depth, duplicate keys (one Set per
 * map: the library's own check compares every pair of keys) and the size once aliases are
 * expanded, each alias's target counted once (memoised), so a billion-laughs document is
 * measured in time linear in its text.
 */
export function checkBounds(src: YamlSource, limits: JobYamlLimits): boolean {
  /** Per node: values once expanded, and levels of maps and lists below it. */
  const measured = new Map<unknown, { size: number; height: number }>();
  const inProgress = new Set<unknown>();
  const tooBig = { size: Number.POSITIVE_INFINITY, height: Number.POSITIVE_INFINITY };
  let failed = false;
  const fail = (node: unknown, what: string) => {
    if (!failed) report(src, node, "", what);
    failed = true;
    return tooBig;
  };
  const measure = (node: unknown, depth: number): { size: number; height: number } => {
    if (failed) return tooBig;
    if (isAlias(node)) {
      const target = node.resolve(src.doc);
      if (target === undefined) return fail(node, `alias *${node.source} names no anchor`);
      if (inProgress.has(target)) return fail(node, `alias *${node.source} refers to a node that contains it`);
      node = target;
    }
    let result = measured.get(node);
    if (result === undefined) {
      if (depth > limits.maxDepth) return fail(node, `nested more than ${limits.maxDepth} levels deep`);
      inProgress.add(node);
      result = { size: 1, height: 0 };
      const add = (child: unknown) => {
        const m = measure(child, depth + 1);
        result!.size += m.size;
        result!.height = Math.max(result!.height, m.height + 1);
      };
      if (isMap(node)) {
        const seen = new Set<string>();
        for (const pair of node.items) {
          if (isScalar(pair.key)) {
            const key = String(pair.key.value);
            if (seen.has(key)) fail(pair.key, `duplicate key ${JSON.stringify(key)}: map keys must be unique`);
            seen.add(key);
          }
          add(pair.key);
          add(pair.value);
        }
      } else if (isSeq(node)) {
        for (const item of node.items) add(item);
      } else if (isPair(node)) {
        add(node.key);
        add(node.value);
      }
      inProgress.delete(node);
      measured.set(node, result);
    }
    if (depth + result.height > limits.maxDepth) return fail(node, `nested more than ${limits.maxDepth} levels deep`);
    if (result.size > limits.maxExpandedNodes) {
      return fail(node, `expands to more than ${limits.maxExpandedNodes} values once aliases are expanded`);
    }
    return result;
  };
  measure(src.doc.contents, 0);
  return !failed;
}
