import { useCallback, useState } from "preact/hooks";
import { type RunFilter, listRuns } from "../../api/runs.js";
import { usePoll } from "../../hooks/use-poll.js";
import { LaunchDialog } from "./launch-dialog.js";
import { RunFilters } from "./run-filters.js";
import { RunsTable } from "./runs-table.js";

const PAGE_SIZE = 50;

/**
 * The user's runs, newest first, 50 a page. Pages go by cursor (the last run of the page
 * before), so page 2,000 of 100,000 runs costs what page 1 does; the shown page reloads
 * every 2 s.
 */
export function RunsPage() {
  const [filter, setFilter] = useState<RunFilter>({});
  // cursors[i] starts page i+1; page 1 starts at the newest run.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [launching, setLaunching] = useState(false);
  const before = cursors[cursors.length - 1];
  const polled = usePoll((signal) => listRuns(filter, { limit: PAGE_SIZE, before }, signal), [filter, before]);

  const changeFilter = useCallback((next: RunFilter) => {
    setFilter(next);
    setCursors([undefined]);
  }, []);
  const next = polled.data?.nextCursor;

  return (
    <section>
      <div class="page-head">
        <h1>Runs</h1>
        <button type="button" class="primary" onClick={() => setLaunching(true)}>
          Launch
        </button>
      </div>
      <RunFilters value={filter} onChange={changeFilter} />
      {polled.error && <p class="error">{polled.error.message}</p>}
      {polled.data &&
        (polled.data.runs.length > 0 ? (
          <RunsTable runs={polled.data.runs} />
        ) : (
          <p class="hint" data-testid="no-runs">
            No runs.
          </p>
        ))}
      <div class="pager">
        <button type="button" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          ← Newer
        </button>
        <span>Page {cursors.length}</span>
        <button type="button" disabled={!next} onClick={() => next && setCursors([...cursors, next])}>
          Older →
        </button>
      </div>
      {launching && <LaunchDialog onClose={() => setLaunching(false)} />}
    </section>
  );
}
