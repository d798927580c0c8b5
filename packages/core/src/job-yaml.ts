import { readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { isMap, LineCounter, parseDocument } from "yaml";
import { FedmlError, ResultCode } from "./codes.js";
import { readCommand } from "./job-yaml/command.js";
import { defaultComputing, readComputing } from "./job-yaml/computing.js";
import { nearMiss } from "./job-yaml/did-you-mean.js";
import { type EnvBudget, flattenIntoEnv } from "./job-yaml/extra-env.js";
import { readFrameworkType, readJobSubtype, readJobType } from "./job-yaml/job-kind.js";
import { readBool, readNonBlankText } from "./job-yaml/scalars.js";
import { checkBounds, DEFAULT_JOB_YAML_LIMITS, type JobYamlLimits, prescan } from "./job-yaml/limits.js";
import { readDocker, readProjectName, readServingArgs } from "./job-yaml/sections.js";
import {
  attempt,
  describeNode,
  type Field,
  failAt,
  fieldsOf,
  report,
  throwIssues,
  toPlain,
  type YamlSource,
} from "./job-yaml/source.js";
import type { CommandSpec, JobSpec } from "./jobspec.js";

export { JOB_SUBTYPES } from "./job-yaml/job-kind.js";
export { extraEnvName } from "./job-yaml/extra-env.js";
export { DEFAULT_JOB_YAML_LIMITS, type JobYamlLimits } from "./job-yaml/limits.js";
export { ParsePool, type ParsePoolCounts, type ParsePoolOptions } from "./job-yaml/pool.js";
export { parseMoney } from "./money.js";

/** Top-level keys with a meaning of their own; every other key becomes FEDML_ENV_* variables. */
export const RESERVED_JOB_YAML_KEYS = [
  "workspace",
  "job",
  "bootstrap",
  "server_job",
  "computing",
  "fedml_env",
  "job_type",
  "task_type",
  "job_subtype",
  "framework_type",
  "job_args",
  "job_name",
  "serving_args",
  "docker",
  "containerize",
] as const;
type ReservedKey = (typeof RESERVED_JOB_YAML_KEYS)[number];

const RESERVED = new Set<string>(RESERVED_JOB_YAML_KEYS);

const RESERVED_KEYS: readonly string[] = RESERVED_JOB_YAML_KEYS;

export interface ParseJobYamlOptions {
  /** The YAML's path (its base name is shown in errors). */
  path?: string;
  limits?: JobYamlLimits;
}

/**
 * Parses and validates a job YAML. Every problem of the file is reported at once, in one
 * FedmlError whose one-line message lists `<file>:<line>:<col>: <key.path>: <what is wrong>`
 * for each: code 17 for bad YAML or schema, 13 when there is nothing to run on posix.
 * Hostile documents (huge, alias bombs, deep) are refused by size before any walk (limits.ts).
 */
export function parseJobYaml(text: string, opts: ParseJobYamlOptions = {}): JobSpec {
  const limits = opts.limits ?? DEFAULT_JOB_YAML_LIMITS;
  const file = opts.path ? basename(opts.path) : "job.yaml";
  prescan(text, file, limits);
  const src = parseSource(text, file);
  if (!checkBounds(src, limits)) throwIssues(src);
  const root = src.doc.contents;
  if (!isMap(root)) {
    throw new FedmlError(
      ResultCode.LAUNCH_JOB_STATUS_INVALID,
      `${src.file}:1:1: expected a map of keys (workspace:, job:, ...) at the top level, got ${describeNode(src, root)}`,
    );
  }
  const reserved = new Map<ReservedKey, Field>();
  const extraEnv: Record<string, string> = {};
  const budget: EnvBudget = { maxVars: limits.maxExtraEnvVars, maxChars: limits.maxExtraEnvChars, vars: 0, chars: 0 };
  for (const field of fieldsOf(src, root, "")) {
    if (RESERVED.has(field.key)) {
      reserved.set(field.key as ReservedKey, field);
      continue;
    }
    const guess = nearMiss(field.key, RESERVED_KEYS);
    if (guess !== undefined) report(src, field.keyNode, field.path, `unknown key, did you mean ${guess}?`);
    else attempt(() => flattenIntoEnv(src, field.value, [field.key], extraEnv, budget), undefined);
  }
  const get = (key: ReservedKey) => reserved.get(key);
  const jobType = attempt(() => readJobType(src, get("job_type"), get("task_type")), "train" as const);
  const spec: JobSpec = {
    workspace: optional(get("workspace"), (f) => readNonBlankText(src, f)),
    job: optional(get("job"), (f) => readCommand(src, f)),
    bootstrap: optional(get("bootstrap"), (f) => readCommand(src, f)),
    serverJob: optional(get("server_job"), (f) => readCommand(src, f)),
    jobType,
    jobSubtype: attempt(() => readJobSubtype(src, get("job_subtype"), jobType), null),
    frameworkType: attempt(() => readFrameworkType(src, get("framework_type")), "general" as const),
    computing: optional(get("computing"), (f) => readComputing(src, f)) ?? defaultComputing(),
    projectName: optional(get("fedml_env"), (f) => readProjectName(src, f)),
    jobName: optional(get("job_name"), (f) => readNonBlankText(src, f)?.trim() ?? null),
    jobArgs: optional(get("job_args"), (f) => toPlain(src, f.value)),
    servingArgs: optional(get("serving_args"), (f) => readServingArgs(src, f)),
    docker: optional(get("docker"), (f) => readDocker(src, f)),
    containerize: optional(get("containerize"), (f) => readBool(src, f, false)) ?? false,
    extraEnv,
  };
  // "Nothing to run" only where the command fields themselves read cleanly.
  const commandIssues = (key: string) => src.issues.some((i) => i.path === key || i.path.startsWith(`${key}.`));
  if (!commandIssues("job")) {
    attempt(() => requireRunnable(src, spec.job, get("job"), "job", "add job: with the commands to run"), undefined);
  }
  if (jobType === "federate" && !commandIssues("server_job")) {
    attempt(
      () =>
        requireRunnable(
          src,
          spec.serverJob,
          get("server_job"),
          "server_job",
          "a federate job needs server_job: with the commands for the server node",
        ),
      undefined,
    );
  }
  throwIssues(src);
  return spec;
}

/** Reads and parses a job YAML file; `yamlDir` is the folder `workspace` is relative to. */
export function readJobYaml(path: string): { text: string; spec: JobSpec; yamlDir: string } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      code === "ENOENT" || code === "ENOTDIR"
        ? `job YAML not found: ${path}`
        : code === "EISDIR"
          ? `job YAML is a folder, not a file: ${path}`
          : `cannot read job YAML ${path}: ${code ?? (err as Error).message}`;
    throw new FedmlError(ResultCode.JOB_CONFIG_NOT_EXISTS, message);
  }
  return { text, spec: parseJobYaml(text, { path }), yamlDir: dirname(resolve(path)) };
}

/** `job_name`, else `<workspace folder>_FedMLLaunchApp`, else "FedMLLaunchApp". */
export function defaultJobName(spec: Pick<JobSpec, "jobName">, workspaceFolderName: string | null): string {
  if (spec.jobName) return spec.jobName;
  return workspaceFolderName ? `${workspaceFolderName}_FedMLLaunchApp` : "FedMLLaunchApp";
}

function parseSource(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  // uniqueKeys off: the library compares every pair of keys of a map; checkBounds does it
  // with a Set.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const src: YamlSource = { file, doc, lineCounter, issues: [] };
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      // Errors found at end of input (an unclosed bracket) point at the last written line.
      const offset = Math.max(0, Math.min(error.pos[0], text.trimEnd().length - 1));
      const { line, col } = lineCounter.linePos(offset);
      const what = error.message.split("\n")[0].replace(/\s+at line \d+, column \d+:?$/, "");
      src.issues.push({
        line,
        col,
        path: "",
        code: ResultCode.LAUNCH_JOB_STATUS_INVALID,
        message: `${file}:${line}:${col}: invalid YAML: ${what}`,
      });
    }
    throwIssues(src);
  }
  return src;
}

function optional<T>(field: Field | undefined, read: (field: Field) => T): T | null {
  return field === undefined ? null : attempt(() => read(field), null);
}

function requireRunnable(
  src: YamlSource,
  command: CommandSpec | null,
  field: Field | undefined,
  key: string,
  hint: string,
): void {
  if (command?.posix) return;
  const what = field === undefined ? `missing; ${hint}` : `nothing to run on posix; ${hint}`;
  failAt(src, field?.keyNode ?? null, key, what, ResultCode.LAUNCH_JOB_STATUS_NO_JOBS);
}
