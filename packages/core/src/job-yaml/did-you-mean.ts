/**
 * Suggestions for misspelt keys: `minimum_num_gpu` -> "did you mean minimum_num_gpus?".
 * Pure; distances are the optimal-string-alignment edit distance (a swap of two neighbours
 * counts once) on keys lowered and with `-` read as `_`.
 */

function normal(key: string): string {
  return key.toLowerCase().replace(/-/g, "_");
}

export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The known key `key` most likely meant, if any is within `maxDistance(known key)` edits. */
export function closestKey(
  key: string,
  known: readonly string[],
  maxDistance: (known: string) => number = (k) => Math.max(2, Math.floor(k.length / 3)),
): string | undefined {
  const wanted = normal(key);
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    // Keys are short; a length gap beyond any allowed distance needs no table.
    if (Math.abs(candidate.length - wanted.length) > maxDistance(candidate)) continue;
    const distance = editDistance(wanted, normal(candidate));
    if (distance <= maxDistance(candidate) && (best === undefined || distance < best.distance))
      best = { key: candidate, distance };
  }
  return best?.key;
}

/** A reader's message for a key it does not know, in a section whose keys it does. */
export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const guess = closestKey(key, known);
  if (guess !== undefined) return `unknown key, did you mean ${guess}?`;
  const list = known.length <= 2 ? known.join(" or ") : `${known.slice(0, -1).join(", ")} or ${known[known.length - 1]}`;
  return `unknown key (expected ${list})`;
}

/**
 * In sections that also take keys of the user's own (the top level, `fedml_env`,
 * `serving_args`), only a near miss of a known key is reported: one edit for short keys, two
 * for longer ones, so that free-form names are left alone.
 */
export function nearMiss(key: string, known: readonly string[]): string | undefined {
  if (known.includes(key)) return undefined;
  return closestKey(key, known, (k) => (k.length <= 6 ? 1 : 2));
}
