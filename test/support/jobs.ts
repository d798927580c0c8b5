import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Writes a job folder: `<dir>/<name>/job.yaml` and a workspace `<dir>/<name>/ws/` holding
 * `files`. Returns the YAML's path.
 */
export function writeJob(dir: string, name: string, yaml: string, files: Record<string, string> = {}): string {
  const jobDir = join(dir, name);
  mkdirSync(join(jobDir, "ws"), { recursive: true });
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(jobDir, "ws", file, ".."), { recursive: true });
    writeFileSync(join(jobDir, "ws", file), text);
  }
  const path = join(jobDir, "job.yaml");
  writeFileSync(path, yaml);
  return path;
}
