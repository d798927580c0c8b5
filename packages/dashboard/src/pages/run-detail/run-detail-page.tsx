import { ApiError } from "../../api/client.js";
import { getRun } from "../../api/runs.js";
import { NotFound } from "../../components/not-found.js";
import { StatusBadge } from "../../components/status-badge.js";
import { usePoll } from "../../hooks/use-poll.js";
import type { PageProps } from "../page-definition.js";

export function RunDetailPage({ params }: PageProps) {
  const id = params.id ?? "";
  const polled = usePoll((signal) => getRun(id, signal), [id]);
  if (polled.error instanceof ApiError && polled.error.status === 404) return <NotFound what={`Run ${id}`} />;
  const run = polled.data;
  return (
    <section>
      <div class="page-head">
        <h1>
          Run #{id} {run && <StatusBadge status={run.status} />}
        </h1>
      </div>
      {polled.error && <p class="error">{polled.error.message}</p>}
      {run && <p>{run.runName}</p>}
    </section>
  );
}
