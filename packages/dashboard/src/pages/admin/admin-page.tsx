import "./admin.css";
import { listDevices } from "../../api/devices.js";
import { listAllRuns, listUsers } from "../../api/admin.js";
import { ApiError } from "../../api/client.js";
import { DeviceTable } from "../../components/device-table.js";
import { usePoll } from "../../hooks/use-poll.js";
import { useSession } from "../../session/session-context.js";
import { RunsTable } from "../runs/runs-table.js";
import { CreateUserForm } from "./create-user-form.js";
import { UsersTable } from "./users-table.js";

const RUNS_SHOWN = 100;

/**
 * Every user, their runs and devices, and the admin's actions on users. Authorised by the
 * API alone: a non-admin's calls answer 403 and the page shows just that.
 */
export function AdminPage() {
  const { user } = useSession();
  const users = usePoll((signal) => listUsers(signal), [], 3000);
  const forbidden = users.error instanceof ApiError && users.error.status === 403;
  const runs = usePoll((signal) => (forbidden ? Promise.resolve(undefined) : listAllRuns(RUNS_SHOWN, signal)), [forbidden], 3000);
  const devices = usePoll(
    (signal) => (forbidden ? Promise.resolve(undefined) : listDevices({ allUsers: true, signal })),
    [forbidden],
    3000,
  );
  if (forbidden) {
    return (
      <section class="not-found" data-testid="forbidden">
        <h1>403</h1>
        <p>{users.error?.message}</p>
      </section>
    );
  }
  return (
    <section class="stack">
      <h1>Admin</h1>
      {users.error && <p class="error">{users.error.message}</p>}
      <CreateUserForm onCreated={users.reload} />
      {users.data && <UsersTable users={users.data.userList} onChanged={users.reload} />}
      <div>
        <h2>Every user's runs (newest {RUNS_SHOWN})</h2>
        {runs.error && <p class="error">{runs.error.message}</p>}
        {runs.data && <RunsTable runs={runs.data.runList} ownersFor={user.name} />}
      </div>
      <div>
        <h2>Every user's devices</h2>
        {devices.error && <p class="error">{devices.error.message}</p>}
        {devices.data && <DeviceTable devices={devices.data.deviceList} showOwner now={Date.now()} />}
      </div>
    </section>
  );
}
