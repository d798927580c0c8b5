/** A page whose content is still being built: says so plainly, and what to use meanwhile. */
export function Placeholder({ title, cli }: { title: string; cli: string }) {
  return (
    <section>
      <h1>{title}</h1>
      <p class="hint">
        This page is not built yet. Meanwhile: <code>{cli}</code>
      </p>
    </section>
  );
}
