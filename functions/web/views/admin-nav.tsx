/** An administration page: its path under /admin and its name in the navigation. */
export interface AdminPage {
  path: string;
  title: string;
}

/** The tool's own administration pages, before the mounted apps' (`AppDeps.adminApps`). */
export const CORE_ADMIN_PAGES: readonly AdminPage[] = [
  { path: "platforms", title: "Platforms" },
  { path: "links", title: "Registration links" },
  { path: "grades", title: "Parked grades" },
];

/** "17:05 UTC": the time of day a sign-in ends, in the zone the admin page can know. */
function timeOfDay(epochSeconds: number): string {
  return `${new Date(epochSeconds * 1000).toISOString().slice(11, 16)} UTC`;
}

/**
 * Links to every administration page, carrying the admin session `s`; the current one marked;
 * until when the sign-in lasts, so a form is not filled in for a session about to end; and Sign
 * out, a form post with the session in its body (a link would make an action of a GET).
 */
export function AdminNav(props: {
  s: string;
  pages: readonly AdminPage[];
  current: string;
  until?: number | undefined;
}) {
  return (
    <nav aria-label="Tool administration">
      {props.until !== undefined ? (
        <p class="session-note">
          Signed in until {timeOfDay(props.until)}; after that, <a href="/admin">sign in again</a>.
        </p>
      ) : null}
      <p>
        {props.pages.map((p, i) => (
          <>
            {i > 0 ? " · " : ""}
            <a
              href={`/admin/${p.path}?s=${encodeURIComponent(props.s)}`}
              {...(p.path === props.current ? { "aria-current": "page" } : {})}
            >
              {p.title}
            </a>
          </>
        ))}
      </p>
      <form method="post" action="/admin/sign-out">
        <input type="hidden" name="s" value={props.s} />
        <button class="button" type="submit" aria-describedby="sign-out-note">
          Sign out
        </button>{" "}
        <small id="sign-out-note">
          ends every administration session, in every browser: the tool has one administrator key.
        </small>
      </form>
    </nav>
  );
}
