import { Link } from "wouter-preact";

/** Run ids as links to their pages, or "—". */
export function RunLinks({ ids }: { ids: readonly string[] | undefined }) {
  if (!ids || ids.length === 0) return "—";
  return (
    <>
      {ids.map((id) => (
        <Link key={id} href={`/runs/${id}`} class="run-link">
          #{id}
        </Link>
      ))}
    </>
  );
}
