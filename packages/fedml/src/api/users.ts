import { type CreateUserRequest, type CreateUserResponse, Paths, type UserListResponse } from "@fedml/core";
import { request } from "../http.js";
import { type ApiOptions, resolveEndpoint } from "./connection.js";

export interface UserCreateOptions extends ApiOptions {
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
