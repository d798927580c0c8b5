import type { ComponentChildren } from "preact";
import { Link, useLocation } from "wouter-preact";
import { navPages } from "../pages/registry.js";
import { useSession } from "../session/session-context.js";

export function Layout({ children }: { children: ComponentChildren }) {
  const { user, signOut } = useSession();
  const [location] = useLocation();
  const visible = navPages.filter((p) => !p.nav?.adminOnly || user.isAdmin);
  return (
    <div class="layout">
      <header class="topbar">
        <span class="brand">FedML Launch</span>
        <nav aria-label="Main">
          {visible.map((p) => {
            const active = location === p.path || location.startsWith(`${p.path}/`);
            return (
              <Link key={p.path} href={p.path} class={active ? "active" : ""} aria-current={active ? "page" : undefined}>
                {p.nav?.label}
              </Link>
            );
          })}
        </nav>
        <span class="user">
          {user.name}
          {user.isAdmin && <span class="tag">admin</span>}
          <button type="button" class="link" onClick={() => void signOut()}>
            Sign out
          </button>
        </span>
      </header>
      <main class="content">{children}</main>
    </div>
  );
}
