/**
 * Generalising values so that they single out fewer people: a date becomes the first day of its week (Monday,
 * ISO 8601) or month, a number becomes the band it falls in.
 */

/** The Monday of the ISO week a YYYY-MM-DD date falls in, as YYYY-MM-DD. */
export function weekOf(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  const sinceMonday = (d.getUTCDay() + 6) % 7;
  d.setUTCDate(d.getUTCDate() - sinceMonday);
  return d.toISOString().slice(0, 10);
}

/** The first day of the month of a YYYY-MM-DD date. */
export function monthOf(date: string): string {
  return `${date.slice(0, 8)}01`;
}

/**
 * The one wording of bands, over lower bounds in any order: [50, 0, 10] -> "0-9", "10-49", then the open top
 * band `<lower><openEnd>` ("50+" in released cells; the policy's explanations and the disclosure page say
 * " or more").
 */
export function bandLabels(bounds: readonly number[], openEnd = '+'): string[] {
  const sorted = [...bounds].sort((a, b) => a - b);
  return sorted.map((lower, i) => (i + 1 < sorted.length ? `${lower}-${sorted[i + 1]! - 1}` : `${lower}${openEnd}`));
}

/**
 * A banding function over lower bounds: with bands [0, 10, 50], 7 -> "0-9", 10 -> "10-49", 80 -> "50+",
 * and a value below the lowest bound -> "<0". Labels are the same text in CSV and JSON.
 */
export function bander(bounds: readonly number[]): (value: number) => string {
  const sorted = [...bounds].sort((a, b) => a - b);
  const labels = bandLabels(sorted);
  const below = `<${sorted[0]}`;
  return (value) => {
    let band = -1;
    for (let i = 0; i < sorted.length && value >= sorted[i]!; i++) band = i;
    return band === -1 ? below : labels[band]!;
  };
}
