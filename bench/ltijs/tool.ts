/**
 * The ltijs 5.9.9 baseline tool: ltijs in serverless mode (it builds its Express app but does
 * not listen) on the in-memory database plugin, with the routes a real ltijs tool uses
 * (login `/login`, launch and app `/`, keyset `/keys`) and an onConnect that answers with a
 * small first page. Shared by `handler.ts` (the Lambda-style bundle) and `server.ts`.
 *
 * ltijs is a process-wide singleton (`module.exports = new Provider()`): one tool per process.
 */
import { randomBytes } from "node:crypto";
import ltijs, { type LtijsIdToken, type LtijsPlatformInput, type LtijsProvider } from "ltijs";
import { MemoryDatabase } from "./memory-db.js";

export interface LtijsTool {
  lti: LtijsProvider;
  db: MemoryDatabase;
}

/** Text every first page carries; the benchmark checks for it. */
export const FIRST_PAGE_TITLE = "Your HLTA preparation";

export async function setupLtijsTool(encryptionKey = randomBytes(32).toString("hex")): Promise<LtijsTool> {
  const lti = ltijs.Provider;
  const db = new MemoryDatabase();
  lti.setup(
    encryptionKey,
    { plugin: db },
    {
      appRoute: "/",
      loginRoute: "/login",
      keysetRoute: "/keys",
      // Inside the LMS's iframe the tool is a third party: ltijs's documented setting.
      cookies: { secure: true, sameSite: "None" },
      devMode: false,
    },
  );
  lti.onConnect((token, _req, res) => {
    res.setHeader("Content-Type", "text/html; charset=utf-8");
    return res.send(firstPage(token));
  });
  // serverless: set up the database and routes, do not listen. A failed database setup
  // would end the process (ltijs calls process.exit()); the memory plugin cannot fail.
  await lti.deploy({ serverless: true, silent: true });
  return { lti, db };
}

/** What an administrator does with ltijs: register the platform, keys fetched from its JWKS URL. */
export function ltijsPlatform(registration: {
  issuer: string;
  clientId: string;
  authUrl: string;
  tokenUrl: string;
  jwksUrl: string;
  name: string;
}): LtijsPlatformInput {
  return {
    url: registration.issuer,
    name: registration.name,
    clientId: registration.clientId,
    authenticationEndpoint: registration.authUrl,
    accesstokenEndpoint: registration.tokenUrl,
    authConfig: { method: "JWK_SET", key: registration.jwksUrl },
  };
}

function firstPage(token: LtijsIdToken): string {
  const name = token.userInfo?.name;
  const course = token.platformContext?.context?.title;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${FIRST_PAGE_TITLE}</title></head><body><main><h1>${FIRST_PAGE_TITLE}</h1><p>${name ? `Welcome, ${escapeHtml(name)}. ` : ""}${course ? `Course: ${escapeHtml(course)}.` : ""}</p></main></body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );
}
