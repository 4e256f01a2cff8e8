import type { Enrolment } from "../../../domain/enrolment.js";
import { Layout } from "./layout.js";

export function CohortPage(props: {
  name?: string;
  courseTitle?: string;
  candidates: Enrolment[];
  locale?: string;
}) {
  return (
    <Layout title="Your HLTA cohort" {...(props.locale ? { lang: props.locale } : {})}>
      <h1>Your HLTA cohort{props.courseTitle ? `: ${props.courseTitle}` : ""}</h1>
      <p class="lede">
        The cohort view will show each candidate's progress against the standards, their written tasks and
        evidence. For now it lists the candidates who have opened the tool in this course.
      </p>
      {props.candidates.length === 0 ? (
        <p class="panel">No candidates have opened the tool in this course yet.</p>
      ) : (
        <table>
          <caption class="ref">
            {props.candidates.length} candidate{props.candidates.length === 1 ? "" : "s"}
          </caption>
          <thead>
            <tr>
              <th scope="col">Candidate</th>
              <th scope="col">First opened</th>
              <th scope="col">Last opened</th>
            </tr>
          </thead>
          <tbody>
            {props.candidates.map((c) => (
              <tr>
                <td>{c.name ?? c.userId}</td>
                <td>{c.firstLaunchAt.slice(0, 10)}</td>
                <td>{c.lastLaunchAt.slice(0, 10)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  );
}
