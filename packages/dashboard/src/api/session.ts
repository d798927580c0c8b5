import type { UserModel } from "@fedml/core";
import { call, get, post } from "./client.js";

export type SessionUser = UserModel;

export const currentUser = () => get<SessionUser>("/session");
export const signIn = (apiKey: string) => post<SessionUser>("/session", { body: { apiKey } });
export const signOut = () => call<void>("DELETE", "/session");
