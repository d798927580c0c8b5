import {
  type CreateUserRequest,
  type CreateUserResponse,
  Paths,
  type RevokeKeysResponse,
  type UserListResponse,
  type UserModel,
} from "@fedml/core";
import { request } from "../http.js";
import { type ApiOptions, resolveEndpoint } from "./connection.js";

export interface UserKeyOptions extends ApiOptions {
  /** The new key stops working after this many days (fractions allowed); omitted: never. */
  expiresInDays?: number | null;
}

export interface UserCreateOptions extends UserKeyOptions {
  /** The new user may manage users. */
  admin?: boolean;
}

/**
 * Ours (admin only): create a user. The answer carries the new user's API key, shown this
 * once: the server keeps only its hash.
 *
 * @returns `{ user: UserModel, apiKey }`.
 */
export async function userCreate(name: string, options: UserCreateOptions = {}): Promise<CreateUserResponse> {
  const endpoint = await resolveEndpoint(options);
  const body: CreateUserRequest = { name, isAdmin: options.admin ?? false };
  if (options.expiresInDays != null) body.expiresInDays = options.expiresInDays;
  return request<CreateUserResponse>("POST", Paths.users, endpoint, { body });
}

/**
 * Ours (admin only): every user.
 *
 * @returns `{ userList: UserModel[] }`.
 */
export async function userList(options: ApiOptions = {}): Promise<UserListResponse> {
  const endpoint = await resolveEndpoint(options);
  return request<UserListResponse>("GET", Paths.users, endpoint);
}

/**
 * Ours (admin only): replace every API key of the user by one new key, shown this once.
 *
 * @returns `{ user: UserModel, apiKey }`.
 * @throws FedmlError 3 when there is no such user.
 */
export async function userRotate(name: string, options: UserKeyOptions = {}): Promise<CreateUserResponse> {
  const endpoint = await resolveEndpoint(options);
  const body = options.expiresInDays != null ? { expiresInDays: options.expiresInDays } : {};
  return request<CreateUserResponse>("POST", Paths.userAction(name, "rotate"), endpoint, { body });
}

/**
 * Ours (admin only): every API key of the user stops working at once (a new one: `userRotate`).
 *
 * @returns `{ revoked }`: how many keys were removed.
 * @throws FedmlError 3 when there is no such user.
 */
export async function userRevoke(name: string, options: ApiOptions = {}): Promise<RevokeKeysResponse> {
  const endpoint = await resolveEndpoint(options);
  return request<RevokeKeysResponse>("POST", Paths.userAction(name, "revoke"), endpoint, { body: {} });
}

export interface UserDisableOptions extends ApiOptions {
  /** False: enable the user again. */
  disabled?: boolean;
}

/**
 * Ours (admin only): a disabled user's keys are refused (HTTP 401, code 20) until the user is
 * enabled again (`disabled: false`); their runs and devices are left as they are.
 *
 * @returns The `UserModel`, with `disabled`.
 * @throws FedmlError 3 when there is no such user, or an admin disables themselves.
 */
export async function userDisable(name: string, options: UserDisableOptions = {}): Promise<UserModel> {
  const endpoint = await resolveEndpoint(options);
  return request<UserModel>("POST", Paths.userAction(name, "disable"), endpoint, {
    body: { disabled: options.disabled ?? true },
  });
}
