import type { ClusterAction, FedMLClusterModel } from "@fedml/core";
import { useState } from "preact/hooks";
import { setAutostop } from "../../api/clusters.js";
import { ConfirmDialogButton } from "../../components/confirm-dialog-button.js";
import { RunLinks } from "../../components/run-links.js";
import { StatusBadge } from "../../components/status-badge.js";
import { formatTime } from "../../format.js";
import { messageOf } from "../../components/action-message.js";

/** A cluster with its actions: what `fedml cluster status NAME` shows, and its buttons. */
export function ClusterRow({
  cluster,
  deviceNames,
  onAction,
  onChanged,
}: {
  cluster: FedMLClusterModel;
  deviceNames: Map<string, string>;
  onAction: (action: ClusterAction, cluster: FedMLClusterModel) => Promise<void>;
  onChanged: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const run = (action: ClusterAction) => async () => {
    setBusy(true);
    try {
      await onAction(action, cluster);
    } finally {
      setBusy(false);
    }
  };
  const queued = new Set(cluster.queuedRunIds ?? []);
  const running = (cluster.liveRunIds ?? []).filter((id) => !queued.has(id));
  const stopped = cluster.status === "STOPPED";
  return (
    <tr data-cluster={cluster.clusterName}>
      <td>
        <StatusBadge status={cluster.status} />
      </td>
      <td class="name" title={cluster.reason ?? undefined}>
        {cluster.clusterName}
      </td>
      <td>{(cluster.deviceIds ?? []).map((id) => deviceNames.get(id) ?? `device ${id}`).join(", ") || "—"}</td>
      <td>
        <AutostopEditor cluster={cluster} onChanged={onChanged} />
      </td>
      <td>
        <RunLinks ids={running} />
      </td>
      <td>
        <RunLinks ids={cluster.queuedRunIds} />
      </td>
      <td>{formatTime(cluster.createdTime)}</td>
      <td>
        <div class="row-actions">
          {stopped ? (
            <button type="button" disabled={busy} onClick={run("start")}>
              Start
            </button>
          ) : (
            <ConfirmDialogButton
              label="Stop"
              question={`Stop cluster ${cluster.clusterName}? Its runs are stopped, waiting ones canceled, and its devices let go; it can be started again.`}
              confirmLabel="Stop the cluster"
              disabled={busy}
              onConfirm={run("stop")}
            />
          )}
          <ConfirmDialogButton
            label="Kill"
            question={`Kill cluster ${cluster.clusterName}? Its runs end and it is removed for good.`}
            confirmLabel="Kill the cluster"
            disabled={busy}
            onConfirm={run("kill")}
          />
        </div>
      </td>
    </tr>
  );
}

/** Minutes without a live run before the cluster stops by itself (0 = never), editable in place. */
function AutostopEditor({ cluster, onChanged }: { cluster: FedMLClusterModel; onChanged: () => void }) {
  const [draft, setDraft] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const minutes = cluster.idleMinutes ?? 0;
  if (draft === null) {
    return (
      <button type="button" class="link" title="Change" onClick={() => setDraft(String(minutes))}>
        {minutes === 0 ? "never" : `after ${minutes} min idle`}
      </button>
    );
  }
  const save = async (event: Event) => {
    event.preventDefault();
    try {
      await setAutostop(cluster.clusterName, Number(draft));
      setDraft(null);
      setError(null);
      onChanged();
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <form class="hstack" onSubmit={save} aria-label={`Idle auto-stop of ${cluster.clusterName}`}>
      <input type="number" min="0" step="1" class="short" value={draft} onInput={(e) => setDraft(e.currentTarget.value)} />
      <span class="hint">min</span>
      <button type="submit">Save</button>
      <button type="button" class="link" onClick={() => setDraft(null)}>
        Cancel
      </button>
      {error && <span class="error">{error}</span>}
    </form>
  );
}
