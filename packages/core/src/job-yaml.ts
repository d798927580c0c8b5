import { readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { isMap, LineCounter, parseDocument } from "yaml";
import { FedmlError, ResultCode } from "./codes.js";
import { readCommand } from "./job-yaml/command.js";
import { defaultComputing, readComputing } from "./job-yaml/computing.js";
import { flattenIntoEnv } from "./job-yaml/extra-env.js";
import { readFrameworkType, readJobSubtype, readJobType } from "./job-yaml/job-kind.js";
import { readBool, readNonBlankText } from "./job-yaml/scalars.js";
import { readDocker, readProjectName, readServingArgs } from "./job-yaml/sections.js";
import { describeNode, type Field, failAt, fieldsOf, toPlain, type YamlSource } from "./job-yaml/source.js";
import type { CommandSpec, JobSpec } from "./jobspec.js";

export { JOB_SUBTYPES } from "./job-yaml/job-kind.js";
export { extraEnvName } from "./job-yaml/extra-env.js";
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

/**
 * Parses and validates a job YAML. Errors are FedmlError with a one-line
 * `<file>:<line>: <key.path>: <what is wrong>` message: code 17 for bad YAML or schema,
 * 13 when there is nothing to run on posix.
 */
export function parseJobYaml(text: string, opts: { path?: string } = {}): JobSpec {
  const src = parseSource(text, opts.path ? basename(opts.path) : "job.yaml");
  const root = src.doc.contents;
  if (!isMap(root)) {
    throw new FedmlError(
      ResultCode.LAUNCH_JOB_STATUS_INVALID,
      `${src.file}:1: expected a map of keys (workspace:, job:, ...) at the top level, got ${describeNode(src, root)}`,
    );
  }
  const reserved = new Map<ReservedKey, Field>();
  const extraEnv: Record<string, string> = {};
  for (const field of fieldsOf(src, root, "")) {
    if (RESERVED.has(field.key)) reserved.set(field.key as ReservedKey, field);
    else flattenIntoEnv(src, field.value, [field.key], extraEnv);
  }
  const get = (key: ReservedKey) => reserved.get(key);
  const jobType = readJobType(src, get("job_type"), get("task_type"));
  const spec: JobSpec = {
    workspace: optional(get("workspace"), (f) => readNonBlankText(src, f)),
    job: optional(get("job"), (f) => readCommand(src, f)),
    bootstrap: optional(get("bootstrap"), (f) => readCommand(src, f)),
    serverJob: optional(get("server_job"), (f) => readCommand(src, f)),
    jobType,
    jobSubtype: readJobSubtype(src, get("job_subtype"), jobType),
    frameworkType: readFrameworkType(src, get("framework_type")),
    computing: optional(get("computing"), (f) => readComputing(src, f)) ?? defaultComputing(),
    projectName: optional(get("fedml_env"), (f) => readProjectName(src, f)),
    jobName: optional(get("job_name"), (f) => readNonBlankText(src, f)?.trim() ?? null),
    jobArgs: optional(get("job_args"), (f) => toPlain(src, f.value)),
    servingArgs: optional(get("serving_args"), (f) => readServingArgs(src, f)),
    docker: optional(get("docker"), (f) => readDocker(src, f)),
    containerize: optional(get("containerize"), (f) => readBool(src, f, false)) ?? false,
    extraEnv,
  };
  requireRunnable(src, spec.job, get("job"), "job", "add job: with the commands to run");
  if (jobType === "federate") {
    requireRunnable(
      src,
      spec.serverJob,
      get("server_job"),
      "server_job",
      "a federate job needs server_job: with the commands for the server node",
    );
  }
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
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const src: YamlSource = { file, doc, lineCounter };
  const [error] = doc.errors;
  if (error) {
    // Errors found at end of input (an unclosed bracket) point at the last written line.
    const offset = Math.max(0, Math.min(error.pos[0], text.trimEnd().length - 1));
    const line = lineCounter.linePos(offset).line;
    const what = error.message.split("\n")[0].replace(/\s+at line \d+, column \d+:?$/, "");
    throw new FedmlError(ResultCode.LAUNCH_JOB_STATUS_INVALID, `${file}:${line}: invalid YAML: ${what}`);
  }
  return src;
}

function optional<T>(field: Field | undefined, read: (field: Field) => T): T | null {
  return field === undefined ? null : read(field);
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
