import type { Cohort } from "../services/cohort.js";
import { Layout } from "./layout.js";
import { utcMinute } from "./time.js";

export function CohortPage(props: { courseTitle?: string; cohort: Cohort; locale?: string }) {
  const { candidates } = props.cohort;
  const opened = candidates.filter((c) => c.firstLaunchAt).length;
  return (
    <Layout title="Your HLTA cohort">
      <h1>Your HLTA cohort{props.courseTitle ? `: ${props.courseTitle}` : ""}</h1>
      <p class="lede">
        {props.cohort.rosterFetchedAt
          ? "Every candidate in this course, including those who have not opened the tool yet."
          : "The candidates in this course who have opened the tool."}{" "}
        Progress against the standards, written tasks and evidence will appear here as candidates work.
      </p>
      {props.cohort.rosterUnavailable ? (
        <p class="panel" role="status">
          {props.cohort.rosterUnavailable}
        </p>
      ) : null}
      {props.cohort.rosterProblem ? (
        <p class="panel error" role="status">
          {props.cohort.rosterProblem}
        </p>
      ) : null}
      {candidates.length === 0 ? (
        <p class="panel">No candidates in this course yet.</p>
      ) : (
        <table>
          <caption class="ref">
            {candidates.length} candidate{candidates.length === 1 ? "" : "s"}, {opened} opened the tool
            {props.cohort.rosterFetchedAt
              ? `; class list from the LMS at ${utcMinute(props.cohort.rosterFetchedAt)} UTC`
              : ""}
          </caption>
          <thead>
            <tr>
              <th scope="col">Candidate</th>
              <th scope="col">First opened</th>
              <th scope="col">Last opened</th>
            </tr>
          </thead>
          <tbody>
            {candidates.map((c) => (
              <tr data-candidate={c.userId}>
                <td>
                  {c.name ?? c.userId}
                  {props.cohort.rosterFetchedAt && !c.inRoster ? (
                    <span class="ref"> (not on the LMS's class list yet)</span>
                  ) : null}
                </td>
                <td>{c.firstLaunchAt?.slice(0, 10) ?? "Not yet"}</td>
                <td>{c.lastLaunchAt?.slice(0, 10) ?? "Not yet"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  );
}
