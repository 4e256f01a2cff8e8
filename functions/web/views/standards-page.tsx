import { STATUS_LABEL, type StandardStatus } from "../../../domain/progress.js";
import { type Framework, standardsByGroup } from "../../../domain/standards/framework.js";
import { Layout } from "./layout.js";
import { Localised } from "./localised.js";

export function StandardsPage(props: {
  name?: string;
  courseTitle?: string;
  locale?: string;
  framework: Framework;
  statusOf: (standardNumber: number) => StandardStatus;
}) {
  const { framework, locale } = props;
  const total = framework.standards.length;
  const done = framework.standards.filter((s) => props.statusOf(s.number) === "met").length;
  return (
    <Layout title="Your HLTA preparation">
      <h1>Your HLTA preparation</h1>
      <p class="lede">
        {props.name ? `Welcome, ${props.name}. ` : ""}
        Higher Level Teaching Assistant (HLTA) is a nationally recognised <strong>status</strong>, not a
        qualification. To be awarded it you show, through your practice, that you meet each of the {total}{" "}
        standards below.
        {props.courseTitle ? ` Course: ${props.courseTitle}.` : ""}
      </p>
      <div class="progress">
        <label for="overall">
          Standards met: {done} of {total}
        </label>
        <progress id="overall" max={total} value={done}>
          {done} of {total}
        </progress>
      </div>
      <p>
        <Localised text={framework.stem} locale={locale} />
      </p>
      {standardsByGroup(framework).map(({ group, standards }) => (
        <section aria-labelledby={`g-${group.id}`}>
          <h2 id={`g-${group.id}`}>
            {group.parent ? `${group.parent}: ` : ""}
            <Localised text={group.title} locale={locale} />
          </h2>
          <ol class="standards">
            {standards.map((s) => (
              <li data-standard={s.number}>
                <span class="num">{s.number}</span>
                <span class="label">
                  <Localised text={s.label} locale={locale} />
                </span>
                <span class="status" data-status={props.statusOf(s.number)}>
                  {STATUS_LABEL[props.statusOf(s.number)]}
                </span>
              </li>
            ))}
          </ol>
        </section>
      ))}
      <p class="ref">
        Standards: <Localised text={framework.title} locale={locale} />, data version {framework.version}.
        Labels are short summaries; your provider holds the official wording.
      </p>
    </Layout>
  );
}
