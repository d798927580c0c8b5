/**
 * Decoded JSON columns kept by their text. A queue pass reads the same waiting runs' specs and
 * the same devices' GPU lists pass after pass, and decoding them (parse and check) was a large
 * share of a pass: the same text decodes to the same value, so each is decoded once while it
 * stays in use. The values are shared: callers must not change them.
 */
export function memoDecode<T>(decode: (text: string) => T, capacity: number): (text: string) => T {
  let memo = new Map<string, T>();
  return (text) => {
    const known = memo.get(text);
    if (known !== undefined) return known;
    const value = decode(text);
    // Emptied rather than trimmed: texts still in use come back at their next read, and a
    // bound that cheap to keep is all a cache of pure decodes needs.
    if (memo.size >= capacity) memo = new Map();
    memo.set(text, value);
    return value;
  };
}
