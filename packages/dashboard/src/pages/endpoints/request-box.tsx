import type { EndpointModel } from "@fedml/core";
import { useState } from "preact/hooks";
import { type InferenceAnswer, sendInference } from "../../api/endpoints.js";
import { messageOf } from "../../components/action-message.js";

const METHODS = ["POST", "GET", "PUT", "DELETE"];

/** The answer's body, indented when it is JSON. */
function pretty(answer: InferenceAnswer): string {
  if (!answer.contentType.includes("json")) return answer.body;
  try {
    return JSON.stringify(JSON.parse(answer.body), null, 2);
  } catch {
    return answer.body;
  }
}

/** Sends one request to the endpoint through the server's proxy and shows what came back. */
export function RequestBox({ endpoint }: { endpoint: EndpointModel }) {
  const [method, setMethod] = useState("POST");
  const [path, setPath] = useState("predict");
  const [body, setBody] = useState('{"inputs": [[1, 2]]}');
  const [answer, setAnswer] = useState<InferenceAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const withBody = method !== "GET";

  const send = async (event: Event) => {
    event.preventDefault();
    setError(null);
    if (withBody) {
      try {
        JSON.parse(body);
      } catch (err) {
        setError(`the body is not JSON: ${messageOf(err)}`);
        return;
      }
    }
    setBusy(true);
    try {
      setAnswer(await sendInference(endpoint.endpointId, path, method, body));
    } catch (err) {
      setAnswer(null);
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="stack" aria-label="Send a request" onSubmit={send}>
      <h2>Send a request</h2>
      <div class="hstack">
        <select name="method" value={method} onChange={(e) => setMethod(e.currentTarget.value)}>
          {METHODS.map((m) => (
            <option key={m}>{m}</option>
          ))}
        </select>
        <code>/inference/{endpoint.endpointId}/</code>
        <input name="path" class="grow" value={path} onInput={(e) => setPath(e.currentTarget.value)} placeholder="path" />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Sending…" : "Send"}
        </button>
      </div>
      {withBody && (
        <textarea name="body" rows={5} spellcheck={false} value={body} onInput={(e) => setBody(e.currentTarget.value)} />
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {answer && (
        <div data-testid="inference-answer">
          <p class={answer.status < 400 ? "verdict ok" : "verdict"}>
            HTTP {answer.status} in {answer.ms} ms
          </p>
          <pre class="answer">{pretty(answer)}</pre>
        </div>
      )}
    </form>
  );
}
