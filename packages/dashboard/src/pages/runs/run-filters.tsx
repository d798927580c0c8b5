import { useEffect, useState } from "preact/hooks";
import type { RunFilter } from "../../api/runs.js";

/** Status choices: one status, or the live ones together. */
const STATUSES: [label: string, value: string][] = [
  ["Any status", ""],
  ["Live", "STARTING,RUNNING,STOPPING"],
  ["Queued", "QUEUED,CLUSTER_QUEUE"],
  ["Running", "RUNNING"],
  ["Finished", "FINISHED"],
  ["Failed", "FAILED"],
  ["Killed", "KILLED"],
];

const PLATFORMS = ["", "falcon", "octopus", "parrot", "spider", "beehive"];

/** The filter bar; typing waits a moment before asking the server. */
export function RunFilters({ value, onChange }: { value: RunFilter; onChange: (filter: RunFilter) => void }) {
  const [name, setName] = useState(value.nameContains ?? "");
  const [project, setProject] = useState(value.project ?? "");
  useEffect(() => {
    const timer = setTimeout(() => {
      if ((value.nameContains ?? "") !== name || (value.project ?? "") !== project) {
        onChange({ ...value, nameContains: name || undefined, project: project || undefined });
      }
    }, 300);
    return () => clearTimeout(timer);
  }, [name, project, value, onChange]);

  return (
    <div class="filters">
      <select
        aria-label="Status"
        value={value.status ?? ""}
        onChange={(e) => onChange({ ...value, status: e.currentTarget.value || undefined })}
      >
        {STATUSES.map(([label, v]) => (
          <option key={v} value={v}>
            {label}
          </option>
        ))}
      </select>
      <input aria-label="Name" placeholder="Name contains…" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      <input aria-label="Project" placeholder="Project" value={project} onInput={(e) => setProject(e.currentTarget.value)} />
      <select
        aria-label="Platform"
        value={value.platform ?? ""}
        onChange={(e) => onChange({ ...value, platform: e.currentTarget.value || undefined })}
      >
        {PLATFORMS.map((p) => (
          <option key={p} value={p}>
            {p || "Any platform"}
          </option>
        ))}
      </select>
    </div>
  );
}
