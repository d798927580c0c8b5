import { useEffect, useState } from "preact/hooks";

/**
 * A button that acts only on a second, deliberate click: the first turns it into
 * "Confirm <label>?" (with Cancel) for a few seconds. No window.confirm, which blocks the page.
 */
export function ConfirmButton({
  label,
  onConfirm,
  danger = false,
  disabled = false,
  testId,
}: {
  label: string;
  onConfirm: () => void | Promise<void>;
  danger?: boolean;
  disabled?: boolean;
  testId?: string;
}) {
  const [asking, setAsking] = useState(false);
  useEffect(() => {
    if (!asking) return;
    const timer = setTimeout(() => setAsking(false), 6000);
    return () => clearTimeout(timer);
  }, [asking]);
  if (!asking) {
    return (
      <button
        type="button"
        class={danger ? "danger" : ""}
        disabled={disabled}
        onClick={() => setAsking(true)}
        data-testid={testId}
      >
        {label}
      </button>
    );
  }
  return (
    <span class="confirm">
      <button
        type="button"
        class={danger ? "danger" : "primary"}
        data-testid={testId ? `${testId}-confirm` : undefined}
        onClick={() => {
          setAsking(false);
          void onConfirm();
        }}
      >
        Confirm {label.toLowerCase()}?
      </button>
      <button type="button" class="link" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
