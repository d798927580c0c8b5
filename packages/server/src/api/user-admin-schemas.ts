/** Request and answer shapes of the admin's key and user lifecycle routes (rotate, revoke, disable). */
import { Type } from "@sinclair/typebox";

export const UserNameParams = Type.Object({ name: Type.String({ pattern: "^[a-zA-Z0-9_.-]{1,64}$" }) });

export const RotateKeyRequestSchema = Type.Object({
  expiresInDays: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 36_500 })),
});

export const RevokeKeysResponseSchema = Type.Object({ revoked: Type.Integer() });

export const DisableUserRequestSchema = Type.Object({ disabled: Type.Optional(Type.Boolean()) });
