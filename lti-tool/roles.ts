/** The product's own roles, from LTI role URIs (LTI Core §A.2) or their short names (NRPS). */
export type ToolRole = "candidate" | "tutor" | "administrator";

const LIS = "http://purl.imsglobal.org/vocab/lis/v2/";

const TUTOR = new Set(["Instructor", "ContentDeveloper", "TeachingAssistant"]);
const ADMIN = new Set(["Administrator", "SysAdmin"]);

/** The last segment of a role: `…/membership#Instructor` → Instructor; `…/membership/Instructor#TeachingAssistant` → TeachingAssistant. */
function shortName(role: string): { name: string; scope: "context" | "institution" | "system" | "short" } {
  if (!role.startsWith(LIS) && !role.startsWith("http")) return { name: role, scope: "short" };
  const name = role.slice(role.lastIndexOf("#") + 1);
  if (role.startsWith(`${LIS}institution/`)) return { name, scope: "institution" };
  if (role.startsWith(`${LIS}system/`)) return { name, scope: "system" };
  return { name, scope: "context" };
}

export function toolRoles(ltiRoles: readonly string[]): Set<ToolRole> {
  const out = new Set<ToolRole>();
  for (const role of ltiRoles) {
    const { name, scope } = shortName(role);
    if (scope !== "institution" && scope !== "system" && TUTOR.has(name)) out.add("tutor");
    if (ADMIN.has(name)) out.add("administrator");
    if (scope !== "institution" && scope !== "system" && name === "Learner") out.add("candidate");
  }
  return out;
}

/**
 * The role a launch lands as. A course teacher who is also a site administrator is a tutor
 * here: the course context wins over the institution role.
 */
export function primaryRole(ltiRoles: readonly string[]): ToolRole | undefined {
  const roles = toolRoles(ltiRoles);
  if (roles.has("tutor")) return "tutor";
  if (roles.has("candidate")) return "candidate";
  if (roles.has("administrator")) return "administrator";
  return undefined;
}
