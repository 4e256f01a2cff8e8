import { Layout } from "./layout.js";

export function ErrorPage(props: {
  title: string;
  message: string;
  reference: string;
  action?: { label: string; href: string; newWindow?: boolean };
}) {
  return (
    <Layout title={props.title}>
      <div class="panel error" role="alert">
        <h1>{props.title}</h1>
        <p>{props.message}</p>
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
          Reference: <code>{props.reference}</code>. Quote it if you contact support.
        </p>
      </div>
    </Layout>
  );
}
