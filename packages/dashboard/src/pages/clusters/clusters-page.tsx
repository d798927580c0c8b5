import type { ClusterAction, FedMLClusterModel } from "@fedml/core";
import { useState } from "preact/hooks";
import { actOnCluster, listClusters } from "../../api/clusters.js";
import { listDevices } from "../../api/devices.js";
import { ActionMessage, type ActionOutcome, failed } from "../../components/action-message.js";
import { usePoll } from "../../hooks/use-poll.js";
import { ClusterRow } from "./cluster-row.js";

/** The user's clusters, live, with start / stop / kill as `fedml cluster start|stop|kill NAME`. */
export function ClustersPage() {
  const clusters = usePoll((signal) => listClusters(signal), [], 2000);
  // Names of the user's own devices; a cluster holding a shared device shows its id.
  const devices = usePoll((signal) => listDevices({ signal }), [], 10_000);
  const [message, setMessage] = useState<ActionOutcome | null>(null);
  const names = new Map(devices.data?.deviceList.map((d) => [d.deviceId, d.name]));

  const act = async (action: ClusterAction, cluster: FedMLClusterModel) => {
    setMessage(null);
    try {
      const answer = await actOnCluster(action, cluster.clusterName);
      const failure = answer.failures[0];
      setMessage(
        failure
          ? { text: `${cluster.clusterName}: ${failure.reason}`, error: true }
          : { text: `${cluster.clusterName}: ${action} done`, error: false },
      );
    } catch (err) {
      setMessage(failed(err));
    }
    clusters.reload();
  };

  const list = clusters.data?.clusterList;
  return (
    <section>
      <h1>Clusters</h1>
      <ActionMessage outcome={message} />
      {clusters.error && <p class="error">{clusters.error.message}</p>}
      {list && list.length === 0 && (
        <p class="hint">
          No clusters. The first <code>fedml launch job.yaml -c NAME</code> creates one.
        </p>
      )}
      {list && list.length > 0 && (
        <table data-testid="clusters-table">
          <thead>
            <tr>
              <th>Status</th>
              <th>Cluster</th>
              <th>Devices</th>
              <th>Idle auto-stop</th>
              <th>Running</th>
              <th>Queued</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((c) => (
              <ClusterRow key={c.clusterId} cluster={c} deviceNames={names} onAction={act} onChanged={clusters.reload} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
