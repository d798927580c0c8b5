import { useState } from "preact/hooks";
import { type RunFilter, listRuns } from "../../api/runs.js";
import { usePoll } from "../../hooks/use-poll.js";
import { RunsTable } from "./runs-table.js";

const PAGE_SIZE = 50;

export function RunsPage() {
  const [filter] = useState<RunFilter>({});
  const polled = usePoll((signal) => listRuns(filter, { limit: PAGE_SIZE }, signal), [filter]);
  return (
    <section>
      <div class="page-head">
        <h1>Runs</h1>
      </div>
      {polled.error && <p class="error">{polled.error.message}</p>}
      {polled.data && <RunsTable runs={polled.data.runs} />}
    </section>
  );
}
