/** `HH:MM UTC`: the same text on the server and in every browser, whatever its time zone. */
export function clock(date: Date): string {
  return `${date.toISOString().slice(11, 16)} UTC`;
}
