import type { CostLine, EarningsReport } from "@fedml/core";
import { formatTime, formatUsd } from "../../format.js";

/** What runs cost, summed one way (project or provider), as `fedml cost` prints it. */
export function CostLines({ title, lines }: { title: string; lines: CostLine[] }) {
  return (
    <div>
      <h2>{title}</h2>
      {lines.length === 0 ? (
        <p class="hint">No runs yet.</p>
      ) : (
        <table data-testid={`cost-${title.toLowerCase().replace(/\s+/g, "-")}`}>
          <thead>
            <tr>
              <th>{title.replace(/^Per /, "").replace(/^./, (c) => c.toUpperCase())}</th>
              <th class="num">Runs</th>
              <th class="num">GPU-hours</th>
              <th class="num">Cost</th>
            </tr>
          </thead>
          <tbody>
            {lines.map((l) => (
              <tr key={l.key}>
                <td class="name">{l.key}</td>
                <td class="num">{l.runs}</td>
                <td class="num">{l.gpuHours.toFixed(3)}</td>
                <td class="num">{formatUsd(l.cost)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** A provider's income per device, as `fedml earnings` prints it. */
export function EarningsTable({ report }: { report: EarningsReport }) {
  return (
    <div>
      <h2>Your devices' earnings</h2>
      <table data-testid="earnings-table">
        <thead>
          <tr>
            <th>Device</th>
            <th class="num">Runs paid</th>
            <th>Last earned</th>
            <th class="num">Earned</th>
          </tr>
        </thead>
        <tbody>
          {report.byDevice.map((d) => (
            <tr key={d.deviceId}>
              <td class="name">{d.deviceName ?? `device ${d.deviceId}`}</td>
              <td class="num">{d.runs}</td>
              <td>{formatTime(d.lastEarnedTime)}</td>
              <td class="num">{formatUsd(d.earned)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
