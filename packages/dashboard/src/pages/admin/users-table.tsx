import type { UserModel } from "@fedml/core";
import { useState } from "preact/hooks";
import { grantCredit, revokeKeys, rotateKey, setDisabled } from "../../api/admin.js";
import { ActionMessage, type ActionOutcome, failed } from "../../components/action-message.js";
import { ConfirmDialogButton } from "../../components/confirm-dialog-button.js";
import { formatTime, formatUsd } from "../../format.js";
import { NewKey } from "./new-key.js";

/** Every user with their balance and live keys, and what an admin may do to each. */
export function UsersTable({ users, onChanged }: { users: UserModel[]; onChanged: () => void }) {
  const [message, setMessage] = useState<ActionOutcome | null>(null);
  const [rotated, setRotated] = useState<{ name: string; apiKey: string } | null>(null);
  const act = (what: () => Promise<string>) => async () => {
    setMessage(null);
    try {
      setMessage({ text: await what(), error: false });
    } catch (err) {
      setMessage(failed(err));
    }
    onChanged();
  };
  return (
    <div>
      <h2>Users</h2>
      <ActionMessage outcome={message} />
      {rotated && <NewKey name={rotated.name} apiKey={rotated.apiKey} onDismiss={() => setRotated(null)} />}
      <table data-testid="users-table">
        <thead>
          <tr>
            <th>User</th>
            <th>Role</th>
            <th class="num">Keys</th>
            <th class="num">Balance</th>
            <th>Created</th>
            <th>Grant credit</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.userId} data-user={u.name} class={u.disabled ? "muted" : ""}>
              <td class="name">{u.name}</td>
              <td>
                {u.isAdmin ? "admin" : "user"}
                {u.disabled && <span class="tag">disabled</span>}
              </td>
              <td class="num">{u.activeKeys ?? "—"}</td>
              <td class="num">{u.balance === undefined ? "—" : formatUsd(u.balance)}</td>
              <td>{formatTime(u.createdTime)}</td>
              <td>
                <GrantForm
                  name={u.name}
                  onGrant={(amount) =>
                    act(async () => {
                      const credit = await grantCredit(u.name, amount);
                      return `${u.name}: balance ${formatUsd(credit.balance)}`;
                    })()
                  }
                />
              </td>
              <td>
                <div class="row-actions">
                  <ConfirmDialogButton
                    label="Rotate key"
                    question={`Give ${u.name} one new API key? Every key they have now stops working at once.`}
                    confirmLabel="Rotate the key"
                    onConfirm={act(async () => {
                      const answer = await rotateKey(u.name);
                      setRotated({ name: u.name, apiKey: answer.apiKey });
                      return `${u.name}: old keys no longer work`;
                    })}
                  />
                  <ConfirmDialogButton
                    label="Revoke keys"
                    question={`Revoke every API key of ${u.name}? They are signed out and cannot sign in until a key is rotated.`}
                    confirmLabel="Revoke the keys"
                    onConfirm={act(async () => `${u.name}: ${(await revokeKeys(u.name)).revoked} key(s) revoked`)}
                  />
                  {u.disabled ? (
                    <button type="button" onClick={act(async () => `${(await setDisabled(u.name, false)).name}: enabled`)}>
                      Enable
                    </button>
                  ) : (
                    <ConfirmDialogButton
                      label="Disable"
                      question={`Disable ${u.name}? Their keys and sessions are refused until enabled again; runs and devices stay.`}
                      confirmLabel="Disable the user"
                      onConfirm={act(async () => `${(await setDisabled(u.name, true)).name}: disabled`)}
                    />
                  )}
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function GrantForm({ name, onGrant }: { name: string; onGrant: (amount: number) => Promise<void> }) {
  const [amount, setAmount] = useState("");
  const submit = async (event: Event) => {
    event.preventDefault();
    await onGrant(Number(amount));
    setAmount("");
  };
  return (
    <form class="hstack" aria-label={`Grant credit to ${name}`} onSubmit={submit}>
      <input
        name="amount"
        type="number"
        min="0.000001"
        step="any"
        class="short"
        placeholder="USD"
        value={amount}
        onInput={(e) => setAmount(e.currentTarget.value)}
      />
      <button type="submit" disabled={!(Number(amount) > 0)}>
        Grant
      </button>
    </form>
  );
}
