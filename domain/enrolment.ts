import type { CourseRef } from "./tenancy.js";

/** A person in a course, as last seen at launch. One xAPI registration per candidate enrolment. */
export interface Enrolment {
  course: CourseRef;
  userId: string;
  role: "candidate" | "tutor" | "administrator";
  ltiRoles: string[];
  name?: string;
  email?: string;
  locale?: string;
  courseTitle?: string;
  /** xAPI `context.registration`: one UUID per candidate enrolment, fixed at first launch. */
  registration: string;
  firstLaunchAt: string;
  lastLaunchAt: string;
}
