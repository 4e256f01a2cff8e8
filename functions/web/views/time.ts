/** "2026-11-24 17:05": an ISO timestamp to the minute, as the pages show times (in UTC). */
export function utcMinute(iso: string): string {
  return iso.slice(0, 16).replace("T", " ");
}
