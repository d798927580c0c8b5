/** A key just made: shown here once, never stored by the page, gone when dismissed. */
export function NewKey({ name, apiKey, onDismiss }: { name: string; apiKey: string; onDismiss: () => void }) {
  return (
    <output class="new-key" data-testid="new-key">
      API key of <strong>{name}</strong> (shown this once): <code data-testid="new-key-value">{apiKey}</code>
      <button type="button" class="link" onClick={onDismiss}>
        Done
      </button>
    </output>
  );
}
