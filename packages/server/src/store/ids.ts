/**
 * Row ids, log seqs and counts are 32-bit integer columns (`serial` / `integer`). SQLite
 * would compare any number against them, PostgreSQL rejects one out of range with an error;
 * clients' ids are parsed here so both answer "not found" for an id no row can have.
 */
export const MAX_INT_COLUMN = 2_147_483_647;

/** A positive id in decimal that a row could have, or undefined. */
export function parseRowId(text: string): number | undefined {
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const id = Number(text);
  return id >= 1 && id <= MAX_INT_COLUMN ? id : undefined;
}
