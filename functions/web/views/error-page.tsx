import type { NextStep } from "../../../domain/errors.js";
import { Layout } from "./layout.js";

/** What the person can do, after what went wrong: in plain words, for a candidate as for a tutor. */
export const NEXT_STEP_TEXT: Record<NextStep, string> = {
  relaunch: "Go back to your course and open the activity again.",
  administrator:
    "This is not something you did, and trying again will not mend it. Unless you look after your school's LMS yourself, tell your course tutor and give them the reference below.",
  "retry-later":
    "Please try again in a few minutes. If it keeps happening, tell your course tutor and give them the reference below.",
};

export function ErrorPage(props: {
  title: string;
  message: string;
  reference: string;
  nextStep?: NextStep | undefined;
  action?: { label: string; href: string; newWindow?: boolean };
}) {
  return (
    <Layout title={props.title}>
      <div class="panel error" role="alert">
        <h1>{props.title}</h1>
        <p>{props.message}</p>
        {props.nextStep ? <p data-next-step={props.nextStep}>{NEXT_STEP_TEXT[props.nextStep]}</p> : null}
        {props.action ? (
          <p>
            <a
              class="button"
              href={props.action.href}
              {...(props.action.newWindow ? { target: "_blank", rel: "noopener" } : {})}
            >
              {props.action.label}
            </a>
          </p>
        ) : null}
        <p class="ref">
          Reference: <code>{props.reference}</code>. Whoever helps you can find what happened from it.
        </p>
      </div>
    </Layout>
  );
}
