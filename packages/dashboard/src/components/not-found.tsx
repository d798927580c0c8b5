import { Link } from "wouter-preact";

/** What an unknown page, or a run that is not the user's, shows: the same as the API's 404. */
export function NotFound({ what }: { what?: string }) {
  return (
    <section class="not-found" data-testid="not-found">
      <h1>404</h1>
      <p>{what ?? "This page"} was not found.</p>
      <Link href="/runs">Back to runs</Link>
    </section>
  );
}
