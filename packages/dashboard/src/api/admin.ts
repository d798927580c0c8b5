import type {
  CreateUserResponse,
  CreditResponse,
  FedMLRunModelList,
  RevokeKeysResponse,
  UserListResponse,
  UserModel,
} from "@fedml/core";
import { get, post } from "./client.js";

const user = (name: string, action: string) => `/users/${encodeURIComponent(name)}/${action}`;

export const listUsers = (signal?: AbortSignal) => get<UserListResponse>("/users", { signal });

export const createUser = (request: { name: string; isAdmin: boolean; expiresInDays?: number }) =>
  post<CreateUserResponse>("/users", { body: request });

export const rotateKey = (name: string) => post<CreateUserResponse>(user(name, "rotate"), { body: {} });
export const revokeKeys = (name: string) => post<RevokeKeysResponse>(user(name, "revoke"), { body: {} });
export const setDisabled = (name: string, disabled: boolean) => post<UserModel>(user(name, "disable"), { body: { disabled } });
export const grantCredit = (name: string, amount: number) => post<CreditResponse>(user(name, "credit"), { body: { amount } });

/** Every user's newest runs, each with its owner. */
export const listAllRuns = (limit: number, signal?: AbortSignal) =>
  get<FedMLRunModelList>("/runs", { query: { allUsers: true, limit }, signal });
