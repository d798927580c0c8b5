/** The server's /metrics (Prometheus text format) as samples the benches can look up. */

export interface Sample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

/** Every sample line of a Prometheus text exposition (comments and blank lines skipped). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const [, name, labelText, value] of text.matchAll(/^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)/gm)) {
    const labels: Record<string, string> = {};
    for (const [, key, labelValue] of (labelText ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = labelValue;
    samples.push({ name, labels, value: Number(value) });
  }
  return samples;
}

export async function scrapeMetrics(serverUrl: string): Promise<Sample[]> {
  return parseMetrics(await (await fetch(`${serverUrl}/metrics`)).text());
}

/** The first sample of `name` whose labels include `labels` (NaN when there is none). */
export function metricValue(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): number {
  const found = samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found ? found.value : Number.NaN;
}
