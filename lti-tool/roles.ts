/** The product's own roles, from LTI role URIs (LTI Core §A.2) or their short names (NRPS). */
export type ToolRole = "candidate" | "tutor" | "administrator";

const LIS = "http://purl.imsglobal.org/vocab/lis/v2/";
const CONTEXT = `${LIS}membership#`;
/** Sub-roles: `…/membership/<principal>#<sub-role>`; a sub-role is a kind of its principal role. */
const CONTEXT_SUB = `${LIS}membership/`;
const INSTITUTION = `${LIS}institution/person#`;
const SYSTEM = `${LIS}system/person#`;

type ParsedRole =
  | { scope: "context"; principal: string }
  | { scope: "institution" | "system"; name: string }
  | undefined;

/**
 * What a role says, by the vocabulary it is in. A course (context) role is read by its principal
 * role, so that a sub-role is what its principal is (`membership/Learner#Instructor` is a kind of
 * Learner, not an Instructor). A short name is a course role (LTI Core §A.2.3.1; NRPS from Moodle
 * sends "Learner"). A URI in any other vocabulary says nothing the tool can trust.
 */
function parseRole(role: string): ParsedRole {
  if (role.startsWith(CONTEXT)) return { scope: "context", principal: role.slice(CONTEXT.length) };
  if (role.startsWith(CONTEXT_SUB)) {
    const rest = role.slice(CONTEXT_SUB.length);
    const hash = rest.indexOf("#");
    return hash > 0 ? { scope: "context", principal: rest.slice(0, hash) } : undefined;
  }
  if (role.startsWith(INSTITUTION)) return { scope: "institution", name: role.slice(INSTITUTION.length) };
  if (role.startsWith(SYSTEM)) return { scope: "system", name: role.slice(SYSTEM.length) };
  if (/^[A-Za-z]+$/.test(role)) return { scope: "context", principal: role };
  return undefined;
}

/** Course roles that see the cohort and add activities: teachers and those who build the course. */
const TUTOR = new Set(["Instructor", "ContentDeveloper"]);

export function toolRoles(ltiRoles: readonly string[]): Set<ToolRole> {
  const out = new Set<ToolRole>();
  for (const role of ltiRoles) {
    const parsed = parseRole(role);
    if (!parsed) continue;
    if (parsed.scope === "context") {
      if (TUTOR.has(parsed.principal)) out.add("tutor");
      if (parsed.principal === "Learner") out.add("candidate");
      if (parsed.principal === "Administrator") out.add("administrator");
    } else if (parsed.name === "Administrator" || (parsed.scope === "system" && parsed.name === "SysAdmin")) {
      out.add("administrator");
    }
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
