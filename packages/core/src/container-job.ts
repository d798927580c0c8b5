/** Whether a job must run in a container, and in which image. Pure. */
import type { JobSpec } from "./jobspec.js";
import type { ContainerSpec } from "./protocol.js";

/** `docker.image` or `containerize: true` makes a container job: it never runs on a bare host. */
export function isContainerJob(spec: Pick<JobSpec, "docker" | "containerize">): boolean {
  return Boolean(spec.docker?.image) || spec.containerize === true;
}

/** The image to run in; an empty image (containerize without docker.image) fails on the agent with that reason. */
export function jobContainer(spec: Pick<JobSpec, "docker" | "containerize">): ContainerSpec | null {
  if (!isContainerJob(spec)) return null;
  const docker = spec.docker;
  return {
    image: docker?.image ?? "",
    registry: docker?.registry ?? null,
    username: docker?.username ?? null,
    password: docker?.password ?? null,
    ports: docker?.ports ?? [],
  };
}
