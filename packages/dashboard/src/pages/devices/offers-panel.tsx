import type { DeviceModel, OfferQuery } from "@fedml/core";
import { useState } from "preact/hooks";
import { listOffers } from "../../api/devices.js";
import { describeGpus } from "../../components/device-table.js";
import { StatusBadge } from "../../components/status-badge.js";
import { formatUsd } from "../../format.js";
import { usePoll } from "../../hooks/use-poll.js";

/** Choices for a filter: the values the unfiltered offers have, sorted. */
const valuesOf = (offers: DeviceModel[] | undefined, pick: (d: DeviceModel) => string[]) =>
  [...new Set((offers ?? []).flatMap(pick).filter((v) => v !== ""))].sort();

/**
 * Every offer the user may use now, cheapest first, filtered by the server exactly as
 * `fedml offers` is (a GPU model matches as a job's resource_type does).
 */
export function OffersPanel() {
  const [filter, setFilter] = useState<OfferQuery>({});
  const all = usePoll((signal) => listOffers({}, signal), [], 5000);
  const filtered = usePoll((signal) => listOffers(filter, signal), [JSON.stringify(filter)], 3000);
  const set = (key: keyof OfferQuery, value: string) =>
    setFilter((f) => {
      const next: OfferQuery = { ...f };
      if (value.trim() === "") delete next[key];
      else if (key === "maxPrice") next.maxPrice = Number(value);
      else next[key] = value.trim();
      return next;
    });
  const select = (key: "gpu" | "provider" | "region", label: string, options: string[]) => (
    <label>
      {label}
      <select name={key} value={filter[key] ?? ""} onChange={(e) => set(key, e.currentTarget.value)}>
        <option value="">any</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
  const offers = filtered.data?.offerList;
  return (
    <div>
      <h2>Offers</h2>
      <form class="filters" aria-label="Offer filters" onSubmit={(e) => e.preventDefault()}>
        {select(
          "gpu",
          "GPU",
          valuesOf(all.data?.offerList, (d) => d.gpus.map((g) => g.name)),
        )}
        {select(
          "provider",
          "Provider",
          valuesOf(all.data?.offerList, (d) => [d.provider]),
        )}
        {select(
          "region",
          "Region",
          valuesOf(all.data?.offerList, (d) => [d.region]),
        )}
        <label>
          Max $/GPU-h
          <input
            name="maxPrice"
            type="number"
            min="0"
            step="0.01"
            placeholder="any"
            value={filter.maxPrice ?? ""}
            onChange={(e) => set("maxPrice", e.currentTarget.value)}
          />
        </label>
      </form>
      {filtered.error && <p class="error">{filtered.error.message}</p>}
      {offers && offers.length === 0 && <p class="hint">No offer matches.</p>}
      {offers && offers.length > 0 && (
        <table data-testid="offers-table">
          <thead>
            <tr>
              <th>Device</th>
              <th>Owner</th>
              <th>GPUs</th>
              <th>Provider</th>
              <th>Region</th>
              <th>Status</th>
              <th class="num">$/GPU-h</th>
            </tr>
          </thead>
          <tbody>
            {offers.map((d) => (
              <tr key={d.deviceId} data-device-id={d.deviceId}>
                <td class="name">
                  <span class="device-name">{d.name}</span>
                  {d.simulated && <span class="tag">simulated</span>}
                </td>
                <td>{d.ownerName}</td>
                <td>{describeGpus(d.gpus)}</td>
                <td>{d.provider || "—"}</td>
                <td>{d.region || "—"}</td>
                <td>
                  <StatusBadge status={d.status} />
                </td>
                <td class="num">{formatUsd(d.pricePerGpuHour)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
