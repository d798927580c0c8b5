import { useState } from "preact/hooks";
import { createUser } from "../../api/admin.js";
import { NewKey } from "./new-key.js";
import { messageOf } from "../../components/action-message.js";

/** Creates a user and shows their API key, this once (the server keeps only its hash). */
export function CreateUserForm({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState("");
  const [isAdmin, setIsAdmin] = useState(false);
  const [expires, setExpires] = useState("");
  const [created, setCreated] = useState<{ name: string; apiKey: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      const answer = await createUser({
        name: name.trim(),
        isAdmin,
        ...(expires.trim() ? { expiresInDays: Number(expires) } : {}),
      });
      setCreated({ name: answer.user.name, apiKey: answer.apiKey });
      setName("");
      setExpires("");
      setIsAdmin(false);
      onCreated();
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <form class="card hstack" aria-label="Create user" onSubmit={submit}>
      <strong>New user</strong>
      <input name="name" placeholder="name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
      <label>
        <input type="checkbox" name="admin" checked={isAdmin} onChange={(e) => setIsAdmin(e.currentTarget.checked)} /> admin
      </label>
      <input
        name="expires"
        type="number"
        min="0"
        step="any"
        class="short"
        placeholder="days"
        title="The key stops working after this many days; empty: never"
        value={expires}
        onInput={(e) => setExpires(e.currentTarget.value)}
      />
      <button type="submit" class="primary" disabled={name.trim() === ""}>
        Create
      </button>
      {error && (
        <span class="error" role="alert">
          {error}
        </span>
      )}
      {created && <NewKey name={created.name} apiKey={created.apiKey} onDismiss={() => setCreated(null)} />}
    </form>
  );
}
