import { FRAMEWORK_TYPES, type FrameworkType, JOB_TYPES, type JobType } from "../jobspec.js";
import { readChoice, readNonBlankText } from "./scalars.js";
import { type Field, failAt, fieldNode, type YamlSource } from "./source.js";

/**
 * Subtypes the original defines per job type. Job types without a list take any subtype
 * as written (the original defines none for them).
 */
export const JOB_SUBTYPES: Readonly<Record<JobType, readonly string[] | null>> = {
  train: ["general_training", "single_machine_training", "cluster_distributed_training", "cross_cloud_training"],
  federate: ["cross_silo", "simulation", "web", "smart_phone"],
  deploy: null,
  serve: null,
  "dev-environment": null,
};

/** The original's shipped examples misspell general_training. */
const SUBTYPE_ALIASES: Readonly<Record<string, string>> = { generate_training: "general_training" };

/** `task_type` wins over `job_type`; both are validated when present. */
export function readJobType(src: YamlSource, jobTypeField: Field | undefined, taskTypeField: Field | undefined): JobType {
  const jobType = jobTypeField ? readChoice(src, jobTypeField, JOB_TYPES, "train") : "train";
  return taskTypeField ? readChoice(src, taskTypeField, JOB_TYPES, jobType) : jobType;
}

export function readJobSubtype(src: YamlSource, field: Field | undefined, jobType: JobType): string | null {
  const text = field ? readNonBlankText(src, field) : null;
  if (text === null || field === undefined) return null;
  const lowered = text.trim().toLowerCase();
  const subtype = SUBTYPE_ALIASES[lowered] ?? lowered;
  const allowed = JOB_SUBTYPES[jobType];
  if (allowed === null) return text.trim();
  if (!allowed.includes(subtype)) {
    failAt(
      src,
      fieldNode(field),
      field.path,
      `${JSON.stringify(text)} is not a ${jobType} subtype (expected one of ${allowed.join(", ")})`,
    );
  }
  return subtype;
}

export function readFrameworkType(src: YamlSource, field: Field | undefined): FrameworkType {
  return field ? readChoice(src, field, FRAMEWORK_TYPES, "general") : "general";
}
