import "./devices.css";
import { listDevices } from "../../api/devices.js";
import { DeviceTable } from "../../components/device-table.js";
import { usePoll } from "../../hooks/use-poll.js";
import { DryRunBox } from "./dry-run-box.js";
import { OffersPanel } from "./offers-panel.js";

/** The user's devices, the marketplace's offers, and what a YAML would cost: all live. */
export function DevicesPage() {
  const devices = usePoll((signal) => listDevices({ signal }), [], 3000);
  return (
    <section class="stack">
      <h1>Devices & offers</h1>
      <div>
        <h2>Your devices</h2>
        {devices.error && <p class="error">{devices.error.message}</p>}
        {devices.data && <DeviceTable devices={devices.data.deviceList} now={Date.now()} />}
      </div>
      <OffersPanel />
      <DryRunBox />
    </section>
  );
}
