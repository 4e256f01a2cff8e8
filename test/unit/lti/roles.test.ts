import { describe, expect, it } from "vitest";
import { primaryRole, toolRoles } from "../../../lti-tool/roles.js";

const M = "http://purl.imsglobal.org/vocab/lis/v2/membership";
const INST = "http://purl.imsglobal.org/vocab/lis/v2/institution/person";
const SYS = "http://purl.imsglobal.org/vocab/lis/v2/system/person";

describe("LTI roles to the tool's roles (LTI Core §A.2)", () => {
  it.each([
    // What Moodle and Canvas send.
    [[`${M}#Learner`], "candidate"],
    [[`${M}#Instructor`], "tutor"],
    [[`${M}#ContentDeveloper`], "tutor"],
    [[`${M}#Instructor`, `${M}/Instructor#TeachingAssistant`], "tutor"],
    [[`${M}/Instructor#TeachingAssistant`], "tutor"], // a sub-role alone is a kind of its principal
    [[`${INST}#Administrator`, `${M}#Instructor`, `${SYS}#Administrator`], "tutor"], // the course wins
    [[`${INST}#Administrator`], "administrator"],
    [[`${SYS}#SysAdmin`], "administrator"],
    [[`${M}#Administrator`], "administrator"],
    // A course's teacher who is also enrolled in it as a learner teaches it here.
    [[`${M}#Learner`, `${M}#Instructor`], "tutor"],
    [[`${M}#Instructor`, `${M}#Learner`], "tutor"],
    // NRPS from Moodle: short names.
    [["Learner"], "candidate"],
    [["Instructor"], "tutor"],
    // A learner's sub-role is a learner, whatever its own name.
    [[`${M}#Learner`, `${M}/Learner#Instructor`], "candidate"],
    [[`${M}/Learner#Instructor`], "candidate"],
    [[`${M}/Learner#ContentDeveloper`], "candidate"],
    // Other vocabularies say nothing the tool trusts, whatever their last word.
    [[`${M}#Learner`, "https://lms.example/vocab/roles#Instructor"], "candidate"],
    [[`${M}#Mentor`, "https://lms.example/vocab/roles#Administrator"], undefined],
    [["http://purl.imsglobal.org/vocab/lis/v2/membership2#Instructor"], undefined],
    [[`${INST}#Instructor`], undefined], // a teacher somewhere in the school, not in this course
    [[`${INST}#Learner`], undefined],
    [[`${INST}#SysAdmin`], undefined], // SysAdmin is a system role only; the institution has none
    [[`${M}#Mentor`], undefined],
    [[`${M}/#Instructor`], undefined],
    [["urn:lti:role:ims/lis/Instructor"], undefined],
    [[], undefined],
  ] as const)("%j → %s", (roles, expected) => {
    expect(primaryRole(roles)).toBe(expected);
  });

  it("keeps every role a person holds, for the views that need more than the first", () => {
    expect([...toolRoles([`${M}#Instructor`, `${M}#Learner`, `${INST}#Administrator`])].sort()).toEqual([
      "administrator",
      "candidate",
      "tutor",
    ]);
  });
});
