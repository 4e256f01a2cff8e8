/**
 * The programme's activities: what a tutor can place in a course (Deep Linking) and what a
 * launch can open. Ids are stable: they are the AGS line item `resourceId`, part of xAPI
 * activity IRIs and of deep-linked URLs, so an id is never reused for something else.
 * Content arrives with the programme issue; the catalogue fixes the shape now.
 */
export type ActivityKind = "module" | "written-task" | "evidence-file" | "cohort-view" | "home";

export interface Activity {
  id: string;
  kind: ActivityKind;
  title: { en: string; cy?: string };
  description: { en: string; cy?: string };
  /** Graded items get an AGS line item; scoreMaximum is what the LMS gradebook shows. */
  grading?: { scoreMaximum: number; label: string };
  /** Who the activity is for; the cohort view is tutors only. */
  audience: "candidate" | "tutor";
  /** Standards the activity bears on (numbers in the default framework), for xAPI context. */
  standards?: number[];
}

export const ACTIVITIES: readonly Activity[] = [
  {
    id: "home",
    kind: "home",
    title: { en: "HLTA preparation" },
    description: { en: "The candidate's home: progress against every standard, tasks and evidence." },
    audience: "candidate",
  },
  {
    id: "module-standards",
    kind: "module",
    title: { en: "Check your understanding: the HLTA standards" },
    description: {
      en: "What each of the standards asks of you, with short questions to check your understanding.",
    },
    grading: { scoreMaximum: 100, label: "Check your understanding: the standards" },
    audience: "candidate",
  },
  {
    id: "module-assessment",
    kind: "module",
    title: { en: "Check your understanding: the assessment process" },
    description: {
      en: "How HLTA assessment works: the tasks, the evidence file, the interviews and the outcome.",
    },
    grading: { scoreMaximum: 100, label: "Check your understanding: assessment" },
    audience: "candidate",
  },
  {
    id: "module-written-tasks",
    kind: "module",
    title: { en: "Check your understanding: the written tasks" },
    description: { en: "Writing tasks 1 to 4, tagging standards, and the cross-reference grid." },
    grading: { scoreMaximum: 100, label: "Check your understanding: written tasks" },
    audience: "candidate",
  },
  {
    id: "module-evidence",
    kind: "module",
    title: { en: "Check your understanding: the evidence file" },
    description: { en: "Choosing, anonymising, labelling and ordering documentary evidence." },
    grading: { scoreMaximum: 100, label: "Check your understanding: evidence file" },
    audience: "candidate",
  },
  {
    id: "written-tasks",
    kind: "written-task",
    title: { en: "Written tasks" },
    description: {
      en: "Tasks 1 to 3 (an individual, a small group, a whole class) and task 4's short situations.",
    },
    grading: { scoreMaximum: 1, label: "Written tasks submitted" },
    audience: "candidate",
  },
  {
    id: "evidence-file",
    kind: "evidence-file",
    title: { en: "Evidence file" },
    description: { en: "Documentary evidence mapped to the standards, ready for the assessor." },
    grading: { scoreMaximum: 1, label: "Evidence file submitted" },
    audience: "candidate",
  },
  {
    id: "cohort",
    kind: "cohort-view",
    title: { en: "Cohort view (tutors)" },
    description: { en: "Every candidate in the course and their progress." },
    audience: "tutor",
  },
];

export function findActivity(id: string): Activity | undefined {
  return ACTIVITIES.find((a) => a.id === id);
}
