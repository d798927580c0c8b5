import type { DeviceModel, GpuInfo } from "@fedml/core";
import { formatAgo, formatUsd } from "../format.js";
import { RunLinks } from "./run-links.js";
import { StatusBadge } from "./status-badge.js";

/** "4 × A100-80GB" (or "2 × A100, 1 × T4"); "—" without GPUs. */
export function describeGpus(gpus: readonly GpuInfo[]): string {
  if (gpus.length === 0) return "—";
  const counts = new Map<string, number>();
  for (const g of gpus) counts.set(g.name, (counts.get(g.name) ?? 0) + 1);
  return [...counts].map(([name, n]) => `${n} × ${name}`).join(", ");
}

/** Devices as a table: the user's own on the devices page, everyone's (with owners) for admins. */
export function DeviceTable({ devices, showOwner = false, now }: { devices: DeviceModel[]; showOwner?: boolean; now: number }) {
  if (devices.length === 0)
    return (
      <p class="hint">
        No devices. Bind one with <code>fedml device bind API_KEY --server URL</code>.
      </p>
    );
  return (
    <table data-testid="device-table">
      <thead>
        <tr>
          <th>Status</th>
          <th>Device</th>
          {showOwner && <th>Owner</th>}
          <th>GPUs</th>
          <th class="num">$/GPU-h</th>
          <th>Provider</th>
          <th>Region</th>
          <th class="num">Runs</th>
          <th>Running now</th>
          <th>Last seen</th>
        </tr>
      </thead>
      <tbody>
        {devices.map((d) => (
          <tr key={d.deviceId} data-device-id={d.deviceId}>
            <td>
              <StatusBadge status={d.status} />
            </td>
            <td class="name" title={`${d.hostname} · ${d.osType} ${d.osVersion} · ${d.cpuCount} CPUs`}>
              <span class="device-name">{d.name}</span>
              {d.simulated && <span class="tag">simulated</span>}
              {d.shared && <span class="tag">shared</span>}
            </td>
            {showOwner && <td>{d.ownerName}</td>}
            <td title={d.gpuError ?? undefined}>{describeGpus(d.gpus)}</td>
            <td class="num">{formatUsd(d.pricePerGpuHour)}</td>
            <td>{d.provider || "—"}</td>
            <td>{d.region || "—"}</td>
            <td class="num">{d.runCount ?? "—"}</td>
            <td>
              {/* Every user's devices run every user's runs, whose pages are their owners' alone. */}
              {showOwner ? d.runningRunIds.map((id) => `#${id}`).join(" ") || "—" : <RunLinks ids={d.runningRunIds} />}
            </td>
            <td>{formatAgo(d.lastSeenTime, now)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
