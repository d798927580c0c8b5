/**
 * GPU model names as users write them ("A100-80GB", "a100_80g") and as nvidia-smi reports
 * them ("NVIDIA A100-SXM4-80GB") differ in case, separators, vendor words and the GB suffix.
 */
/** Form-factor and memory-kind words: PCIE, SXM, SXM4, HBM3, HBM3E, NVL. */
const FORM_FACTOR = /^(PCIE|SXM\d*|HBM\d*E?|NVL)$/;
const isFormFactor = (token: string) => FORM_FACTOR.test(token);

const VENDOR_WORDS = new Set(["NVIDIA", "GEFORCE", "TESLA", "AMD", "RADEON", "INSTINCT"]);

export function gpuNameTokens(name: string): string[] {
  return name
    .toUpperCase()
    .split(/[\s\-_/]+/)
    .map((t) => t.replace(/^(\d+)G(B)?$/, "$1"))
    .filter((t) => t.length > 0 && !VENDOR_WORDS.has(t));
}

/** Upper case, no separators, no vendor words, "80GB" -> "80". */
export function normalizeGpuName(name: string): string {
  return gpuNameTokens(name).join("");
}

/**
 * Whether a GPU called `gpuName` satisfies a wanted `resourceType`: same normalised name, or
 * every wanted token starts some token of the GPU's name ("A100-80GB-SXM" fits
 * "NVIDIA A100-SXM4-80GB"), or the normalised wanted name is part of the GPU's ("RTX4090").
 */
export function gpuMatchesType(gpuName: string, resourceType: string): boolean {
  // A fleet has few distinct model names and a queue few distinct types, but the matcher asks
  // for every GPU of every device on every decision: tokenising each time was most of its cost.
  const key = `${gpuName}\u0000${resourceType}`;
  let answer = matchCache.get(key);
  if (answer === undefined) {
    answer = gpuMatchesTypeUncached(gpuName, resourceType);
    if (matchCache.size >= MATCH_CACHE_LIMIT) matchCache.clear();
    matchCache.set(key, answer);
  }
  return answer;
}

/** Bounds the memory a stream of unusual names could take; refilling is cheap. */
const MATCH_CACHE_LIMIT = 10_000;
const matchCache = new Map<string, boolean>();

function gpuMatchesTypeUncached(gpuName: string, resourceType: string): boolean {
  const have = gpuNameTokens(gpuName);
  // A form factor the GPU does not state cannot be held against it ("A100 80GB PCIe" fits a
  // GPU reported as "A100-80G"), but one it states must agree (PCIe does not fit SXM4).
  const statesForm = have.some(isFormFactor);
  const wanted = gpuNameTokens(resourceType).filter((t) => statesForm || !isFormFactor(t));
  if (wanted.length === 0) return true;
  const haveJoined = have.join("");
  const wantedJoined = wanted.join("");
  if (haveJoined === wantedJoined || haveJoined.includes(wantedJoined)) return true;
  return wanted.every((w) => have.some((h) => h.startsWith(w)));
}
