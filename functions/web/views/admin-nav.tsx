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

/** Links to every administration page, carrying the admin session `s`; the current one marked. */
export function AdminNav(props: { s: string; pages: readonly AdminPage[]; current: string }) {
  return (
    <nav aria-label="Tool administration">
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
    </nav>
  );
}
