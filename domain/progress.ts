/**
 * Progress against a standard. Later issues derive it from activities, tasks and evidence;
 * the walking skeleton shows every standard at "not_started".
 */
export const STANDARD_STATUSES = ["not_started", "in_progress", "evidenced", "met"] as const;
export type StandardStatus = (typeof STANDARD_STATUSES)[number];

export const STATUS_LABEL: Record<StandardStatus, string> = {
  not_started: "Not started",
  in_progress: "In progress",
  evidenced: "Evidenced",
  met: "Met",
};
