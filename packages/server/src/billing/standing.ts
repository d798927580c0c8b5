import type { Kysely } from "kysely";
import { readBalance } from "../store/credit.js";
import { listOpenReservations } from "../store/reservations.js";
import { listBillingParts } from "../store/runs.js";
import type { Database } from "../store/schema.js";
import { hourlyCommitment } from "./commitments.js";

export interface Standing {
  cardBound: boolean;
  balanceMicros: number;
  /** Micro-dollars per hour of everything that bills now (running parts, held devices): a new placement comes on top. */
  committedMicrosPerHour: number;
}

/** The user's credit as the matcher checks it. */
export async function creditStanding(db: Kysely<Database>, userId: number): Promise<Standing> {
  const committedMicrosPerHour = hourlyCommitment(await listBillingParts(db, userId), await listOpenReservations(db, userId));
  return { ...(await readBalance(db, userId)), committedMicrosPerHour };
}
