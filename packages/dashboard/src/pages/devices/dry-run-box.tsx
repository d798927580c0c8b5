import type { DryRunResponse } from "@fedml/core";
import { useState } from "preact/hooks";
import { dryRun } from "../../api/devices.js";
import { formatUsd } from "../../format.js";
import { messageOf } from "../../components/action-message.js";

const EXAMPLE = `job: python3 train.py
computing:
  minimum_num_gpus: 1
  maximum_cost_per_hour: $2.00
  resource_type: A100-80G
`;

const gpuCount = (n: number) => (n === 0 ? "no GPU" : n === 1 ? "1 GPU" : `${n} GPUs`);

/** "What would this YAML cost and where": the server's dry run, as `fedml launch --dry-run`. */
export function DryRunBox() {
  const [yaml, setYaml] = useState(EXAMPLE);
  const [answer, setAnswer] = useState<DryRunResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setAnswer(await dryRun(yaml));
    } catch (err) {
      setAnswer(null);
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  const names = new Map(answer?.offers.map((o) => [o.id, o.name]));
  return (
    <form class="card dry-run" aria-label="Dry run" onSubmit={submit}>
      <h2>Dry run: what would this job cost, and where?</h2>
      <textarea name="yaml" rows={8} spellcheck={false} value={yaml} onInput={(e) => setYaml(e.currentTarget.value)} />
      <div>
        <button type="submit" class="primary" disabled={busy || yaml.trim() === ""}>
          {busy ? "Checking…" : "Dry run"}
        </button>
        <span class="hint"> Nothing is launched or stored.</span>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {answer && (
        <div data-testid="dry-run-answer">
          <p class={answer.resultCode === 0 ? "verdict ok" : "verdict"}>
            {answer.resultCode === 0
              ? `Would run now on ${answer.placement
                  .map((p) => `${names.get(p.deviceId) ?? `device ${p.deviceId}`} (${gpuCount(p.gpuIndices.length)})`)
                  .join(" + ")} at ${formatUsd(answer.pricePerHour)}/hour.`
              : `Would answer ${answer.resultCode}: ${answer.resultMsg}`}
          </p>
          {answer.offers.length > 0 && (
            <table>
              <thead>
                <tr>
                  <th>Device</th>
                  <th>GPU</th>
                  <th>Provider</th>
                  <th>Region</th>
                  <th class="num">Free / total</th>
                  <th class="num">$/GPU-h</th>
                </tr>
              </thead>
              <tbody>
                {answer.offers.map((o) => (
                  <tr key={o.id}>
                    <td class="name">{o.name}</td>
                    <td>{o.gpuName || "—"}</td>
                    <td>{o.gpuProvider || "—"}</td>
                    <td>{o.gpuRegion || "—"}</td>
                    <td class="num">
                      {o.gotGpuCount} / {o.totalGpuCount}
                    </td>
                    <td class="num">{formatUsd(o.cost)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </form>
  );
}
