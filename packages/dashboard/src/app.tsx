import { useEffect, useMemo, useState } from "preact/hooks";
import { Redirect, Route, Switch } from "wouter-preact";
import { onSignedOut } from "./api/client.js";
import { type SessionUser, currentUser, signOut } from "./api/session.js";
import { Layout } from "./components/layout.js";
import { NotFound } from "./components/not-found.js";
import { usePageTitle } from "./components/page-title.js";
import type { PageDefinition } from "./pages/page-definition.js";
import { pages } from "./pages/registry.js";
import { SessionContext } from "./session/session-context.js";
import { SignIn } from "./session/sign-in.js";

type State = { kind: "checking" } | { kind: "signed-out" } | { kind: "signed-in"; user: SessionUser };

/**
 * Who is signed in, as the server wrote it into the page (web-routes.ts): the first render
 * needs no round trip. Absent (e.g. under Vite's dev server): ask the API.
 */
function initialState(): State {
  const embedded = document.getElementById("fedml-session")?.textContent;
  if (!embedded) return { kind: "checking" };
  const user = JSON.parse(embedded) as SessionUser | null;
  return user ? { kind: "signed-in", user } : { kind: "signed-out" };
}

export function App() {
  const [state, setState] = useState<State>(initialState);

  useEffect(() => {
    if (state.kind === "checking") {
      currentUser().then(
        (user) => setState({ kind: "signed-in", user }),
        () => setState({ kind: "signed-out" }),
      );
    }
    return onSignedOut(() => setState({ kind: "signed-out" }));
  }, []);

  const session = useMemo(
    () =>
      state.kind === "signed-in"
        ? {
            user: state.user,
            signOut: async () => {
              await signOut().catch(() => undefined);
              setState({ kind: "signed-out" });
            },
          }
        : null,
    [state],
  );

  if (state.kind === "checking") return null;
  if (!session) return <SignIn onSignedIn={(user) => setState({ kind: "signed-in", user })} />;
  return (
    <SessionContext.Provider value={session}>
      <Layout>
        <Switch>
          <Route path="/">
            <Redirect to="/runs" replace />
          </Route>
          {pages.map((p) => (
            <Route key={p.path} path={p.path}>
              {(params) => <Page page={p} params={params} />}
            </Route>
          ))}
          <Route>
            <NotFound />
          </Route>
        </Switch>
      </Layout>
    </SessionContext.Provider>
  );
}

function Page({ page, params }: { page: PageDefinition; params: Record<string, string | undefined> }) {
  usePageTitle(page.title);
  const Component = page.component;
  return <Component params={params} />;
}
