import { useState } from "preact/hooks";
import { Modal } from "./modal.js";

/** A button that asks in a dialog, with the question spelled out, before doing something that cannot be undone. */
export function ConfirmDialogButton(props: {
  label: string;
  question: string;
  confirmLabel: string;
  onConfirm: () => Promise<void>;
  disabled?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await props.onConfirm();
      setAsking(false);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" class="danger" disabled={props.disabled} onClick={() => setAsking(true)}>
        {props.label}
      </button>
      {asking && (
        <Modal title={props.label} onClose={() => setAsking(false)}>
          <p>{props.question}</p>
          {error && <p class="error">{error}</p>}
          <div class="actions">
            <button type="button" onClick={() => setAsking(false)}>
              Cancel
            </button>
            <button type="button" class="danger" disabled={busy} onClick={confirm}>
              {props.confirmLabel}
            </button>
          </div>
        </Modal>
      )}
    </>
  );
}
