import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { SessionUser } from "../api/session.js";

export interface Session {
  user: SessionUser;
  signOut(): Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

/** The signed-in user (every page is rendered inside a session). */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a signed-in page");
  return session;
}
