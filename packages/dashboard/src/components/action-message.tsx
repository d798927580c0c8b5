/** What the last action on a page did, or why it failed: announced to screen readers as a status. */
export interface ActionOutcome {
  text: string;
  error: boolean;
}

export function ActionMessage({ outcome }: { outcome: ActionOutcome | null }) {
  if (!outcome) return null;
  return (
    <output class={outcome.error ? "message error" : "message hint"} data-testid="action-message">
      {outcome.text}
    </output>
  );
}

/** A failure's one line (the server's message for a refused call). */
export const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The outcome of a failed action. */
export const failed = (err: unknown): ActionOutcome => ({ text: messageOf(err), error: true });
