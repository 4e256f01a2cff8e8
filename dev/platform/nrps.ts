/**
 * Names and Role Provisioning Services 2.0 at Moodle's URL:
 *
 *   GET /mod/lti/services.php/CourseSection/{course}/bindings/{typeId}/memberships
 *
 * Lists the course's enrolments (not site administrators, who are not enrolled) with Moodle's
 * SHORT role names ("Instructor", "Learner"), unlike the id_token's full URIs. `role` filters
 * (short name or full URI), `limit` / `from` page with `Link: <…>; rel="next"`. Unlike Moodle,
 * which lists everyone unless asked for a `limit`, this platform pages by default
 * (`membershipsPageSize`, 10), so a tool must follow `rel="next"` to see the whole cohort.
 */
import type { Hono } from "hono";
import { MEDIA_TYPE, SCOPE } from "./claims.js";
import type { CourseRole } from "./seed.js";
import { fullName } from "./seed.js";
import {
  accepts,
  authorize,
  json,
  pageQuery,
  paginate,
  publicUrl,
  type ServiceContext,
  serviceError,
} from "./services.js";

const LIS_MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#";

/** Moodle's NRPS role names: teachers are Instructor, students Learner. */
export function nrpsRole(role: CourseRole): "Instructor" | "Learner" {
  return role === "student" ? "Learner" : "Instructor";
}

export function membershipsUrl(ctx: ServiceContext, courseId: string, typeId: string): string {
  return ctx.at(`/mod/lti/services.php/CourseSection/${courseId}/bindings/${typeId}/memberships`);
}

export function mountNrps(app: Hono, ctx: ServiceContext, pageSize: number | undefined): void {
  app.get("/mod/lti/services.php/CourseSection/:course/bindings/:type/memberships", (c) => {
    const auth = authorize(c, ctx, [SCOPE.memberships]);
    if (!auth.ok) return auth.response;
    const typeId = c.req.param("type");
    if (typeId !== auth.tool.deploymentId) {
      return ctx.tools.find(typeId)
        ? serviceError(
            c,
            403,
            "forbidden",
            `The access token is for tool ${auth.tool.deploymentId}, not ${typeId}.`,
          )
        : serviceError(c, 404, "not_found", `There is no tool with id "${typeId}".`);
    }
    const course = ctx.directory.course(c.req.param("course"));
    if (!course || course.id !== c.req.param("course")) {
      return serviceError(c, 404, "not_found", `There is no course ${c.req.param("course")}.`);
    }
    if (!accepts(c.req.header("accept"), MEDIA_TYPE.membershipContainer)) {
      return serviceError(c, 406, "not_acceptable", `Accept ${MEDIA_TYPE.membershipContainer}.`);
    }
    const page = pageQuery(c, pageSize);
    if (!page.ok) return serviceError(c, 400, "invalid_request", page.message);
    const rlid = c.req.query("rlid");
    if (rlid !== undefined && ctx.directory.linkById(rlid)?.courseId !== course.id) {
      return serviceError(c, 404, "not_found", `There is no resource link ${rlid} in course ${course.id}.`);
    }
    const role = c.req.query("role");
    const wanted = role?.startsWith(LIS_MEMBERSHIP) ? role.slice(LIS_MEMBERSHIP.length) : role;
    const members = ctx.directory
      .enrolments(course.id)
      .filter((e) => wanted === undefined || nrpsRole(e.role) === wanted)
      .map(({ user, role: r }) => ({
        status: "Active",
        name: fullName(user),
        given_name: user.givenName,
        family_name: user.familyName,
        email: user.email,
        user_id: user.id,
        roles: [nrpsRole(r)],
      }));
    const url = publicUrl(c, ctx);
    const { items, link } = paginate(members, page, url, ["next"]);
    if (link) c.header("Link", link);
    return json(
      c,
      200,
      {
        id: url,
        context: { id: course.id, label: course.shortName, title: course.fullName },
        members: items,
      },
      MEDIA_TYPE.membershipContainer,
    );
  });
}
