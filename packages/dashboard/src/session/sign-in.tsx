import { useState } from "preact/hooks";
import { ApiError } from "../api/client.js";
import { type SessionUser, signIn } from "../api/session.js";

/** The API key goes to the server once; what comes back is an httpOnly cookie, nothing a script keeps. */
export function SignIn({ onSignedIn }: { onSignedIn: (user: SessionUser) => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const user = await signIn(key);
      setKey("");
      onSignedIn(user);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in">
      <form class="card" onSubmit={submit} aria-label="Sign in">
        <h1>FedML Launch</h1>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          placeholder="fedml_…"
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          required
        />
        <button type="submit" class="primary" disabled={busy || key.trim() === ""}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <p class="hint">
          Your key is in <code>~/.fedml</code> after <code>fedml login</code>, or ask an admin (<code>fedml user create</code>).
        </p>
      </form>
    </main>
  );
}
