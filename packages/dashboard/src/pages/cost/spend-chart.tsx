import type { SpendByDayResponse } from "@fedml/core";
import { formatUsd } from "../../format.js";

// About the size it is drawn at on a laptop's screen, so that the labels keep their size.
const WIDTH = 1200;
const HEIGHT = 220;
const PAD = { left: 64, right: 8, top: 10, bottom: 24 };

/** Axis labels: two significant digits at most ($0.002, $1.5, $120). */
const axisUsd = (v: number) => (v === 0 ? "$0" : `$${Number(v.toPrecision(2))}`);

/** A round ceiling for the axis: 1, 2 or 5 times a power of ten. */
export function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].find((m) => m * power >= value) ?? 10) * power;
}

/**
 * Spending (and earnings, when there are any) per day as bars, in plain SVG: a chart library
 * would weigh more than the rest of the page.
 */
export function SpendChart({ data }: { data: SpendByDayResponse }) {
  const days = data.dayList;
  const showEarned = data.earned > 0;
  const top = niceMax(Math.max(...days.map((d) => Math.max(d.spent, showEarned ? d.earned : 0))));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / days.length;
  const barW = Math.max(1, (showEarned ? slot / 2 : slot) * 0.8);
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;
  const labelEvery = Math.ceil(days.length / 8);
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`Spent ${formatUsd(data.spent)} and earned ${formatUsd(data.earned)} over ${days.length} days`}
        data-testid="spend-chart"
      >
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(top * f)} y2={y(top * f)} class="grid" />
            <text x={PAD.left - 6} y={y(top * f) + 4} class="axis" text-anchor="end">
              {axisUsd(top * f)}
            </text>
          </g>
        ))}
        {days.map((d, i) => {
          const x = PAD.left + i * slot + (slot - (showEarned ? barW * 2 : barW)) / 2;
          return (
            <g key={d.day}>
              <rect
                x={x}
                y={y(d.spent)}
                width={barW}
                height={y(0) - y(d.spent)}
                class="bar spent"
                data-day={d.day}
                data-spent={d.spent}
              >
                <title>{`${d.day}: spent ${formatUsd(d.spent)}`}</title>
              </rect>
              {showEarned && (
                <rect
                  x={x + barW}
                  y={y(d.earned)}
                  width={barW}
                  height={y(0) - y(d.earned)}
                  class="bar earned"
                  data-day={d.day}
                  data-earned={d.earned}
                >
                  <title>{`${d.day}: earned ${formatUsd(d.earned)}`}</title>
                </rect>
              )}
              {i % labelEvery === 0 && (
                <text x={PAD.left + i * slot + slot / 2} y={HEIGHT - 6} class="axis" text-anchor="middle">
                  {d.day.slice(5)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption class="hint">
        <span class="key spent" /> spent {formatUsd(data.spent)}
        {showEarned && (
          <>
            {" "}
            <span class="key earned" /> earned {formatUsd(data.earned)}
          </>
        )}{" "}
        · charged when a run part ends or a cluster lets a device go
      </figcaption>
    </figure>
  );
}
