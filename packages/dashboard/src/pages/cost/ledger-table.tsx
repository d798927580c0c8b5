import type { LedgerEntry } from "@fedml/core";
import { RunLinks } from "../../components/run-links.js";
import { formatTime, formatUsd } from "../../format.js";

/** The last entries of the user's credit ledger, newest first. */
export function LedgerTable({ entries }: { entries: LedgerEntry[] }) {
  return (
    <div>
      <h2>Ledger</h2>
      {entries.length === 0 ? (
        <p class="hint">No entries yet.</p>
      ) : (
        <table data-testid="ledger-table">
          <thead>
            <tr>
              <th>When</th>
              <th>Kind</th>
              <th>Run</th>
              <th>Note</th>
              <th class="num">Amount</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e, i) => (
              <tr key={`${e.createdTime}-${i}`}>
                <td>{formatTime(e.createdTime)}</td>
                <td>{e.kind}</td>
                <td>
                  {/* An earning's run is another user's: named, not linked (its page is theirs). */}
                  {e.kind === "earning" ? e.runId ? `#${e.runId}` : "—" : <RunLinks ids={e.runId ? [e.runId] : []} />}
                </td>
                <td class="name" title={e.note}>
                  {e.note}
                </td>
                <td class={e.amount < 0 ? "num neg" : "num pos"}>{formatUsd(e.amount)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
