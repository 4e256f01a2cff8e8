import { describe, expect, it } from "vitest";
import { lambdaBundle } from "../../support/lambda-bundle.js";

/** The project's own modules a Lambda bundle holds (its metafile's inputs outside node_modules). */
async function ownModules(entry: string): Promise<string[]> {
  const result = await lambdaBundle({ entry });
  return Object.keys(result.metafile.inputs).filter((p) => !p.includes("node_modules"));
}

describe("the web and admin functions' bundles", () => {
  it("leaves every administration module out of the web bundle, which every launch loads", async () => {
    const web = await ownModules("functions/web/handler.ts");
    expect(web).toEqual(
      expect.arrayContaining(["functions/web/routes/lti.tsx", "functions/web/routes/pages.tsx"]),
    );
    expect(web.filter((p) => p.startsWith("functions/admin/"))).toEqual([]);
    // Nor what only those modules use: dynamic registration and the xAPI Profile document.
    expect(web).not.toContain("lti-tool/dynamic-registration.ts");
    expect(web).not.toContain("statements/profile.ts");
  });

  it("bundles the administration, registration and profile routes into the admin function", async () => {
    const admin = await ownModules("functions/admin/handler.ts");
    expect(admin).toEqual(
      expect.arrayContaining([
        "functions/admin/routes/admin.tsx",
        "functions/admin/routes/registration.tsx",
        "functions/admin/routes/xapi.tsx",
        "lti-tool/dynamic-registration.ts",
        "statements/profile.ts",
      ]),
    );
    expect(admin).not.toContain("functions/web/routes/lti.tsx");
  });
});
