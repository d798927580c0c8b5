import "./cost.css";
import { useState } from "preact/hooks";
import { getCosts, getCredit, getEarnings, getSpendByDay } from "../../api/credit.js";
import { formatUsd } from "../../format.js";
import { usePoll } from "../../hooks/use-poll.js";
import { CostLines, EarningsTable } from "./breakdowns.js";
import { LedgerTable } from "./ledger-table.js";
import { SpendChart } from "./spend-chart.js";

const WINDOWS = [7, 30, 90];

/** Balance, spending per day, per project and provider, a provider's earnings, and the ledger: live. */
export function CostPage() {
  const [days, setDays] = useState(30);
  const credit = usePoll((signal) => getCredit(signal), [], 3000);
  const daily = usePoll((signal) => getSpendByDay(days, signal), [days], 3000);
  const costs = usePoll((signal) => getCosts(signal), [], 3000);
  const earnings = usePoll((signal) => getEarnings(signal), [], 3000);
  const error = credit.error ?? daily.error ?? costs.error ?? earnings.error;
  return (
    <section class="stack">
      <h1>Cost & credit</h1>
      {error && <p class="error">{error.message}</p>}
      {credit.data && (
        <div class="tiles">
          <div class="card tile" data-testid="balance">
            <span class="hint">Balance</span>
            <strong>{formatUsd(credit.data.balance)}</strong>
            {!credit.data.cardBound && <span class="hint">No credit granted yet: paid devices are closed to you.</span>}
          </div>
          {costs.data && (
            <div class="card tile">
              <span class="hint">All runs cost</span>
              <strong>{formatUsd(costs.data.total)}</strong>
            </div>
          )}
          {earnings.data && (
            <div class="card tile">
              <span class="hint">Your devices earned</span>
              <strong>{formatUsd(earnings.data.total)}</strong>
            </div>
          )}
        </div>
      )}
      <div class="card">
        <div class="page-head">
          <h2>Spent and earned per day</h2>
          <label>
            Last{" "}
            <select name="days" value={String(days)} onChange={(e) => setDays(Number(e.currentTarget.value))}>
              {WINDOWS.map((d) => (
                <option key={d} value={String(d)}>
                  {d} days
                </option>
              ))}
            </select>
          </label>
        </div>
        {daily.data && <SpendChart data={daily.data} />}
      </div>
      {costs.data && (
        <div class="cost-columns">
          <CostLines title="Per project" lines={costs.data.byProject} />
          <CostLines title="Per provider" lines={costs.data.byProvider} />
        </div>
      )}
      {earnings.data && earnings.data.byDevice.length > 0 && <EarningsTable report={earnings.data} />}
      {credit.data && <LedgerTable entries={credit.data.ledger} />}
    </section>
  );
}
