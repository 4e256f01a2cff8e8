import * as z from "../zod.js";
import hltaEngland from "./frameworks/hlta-england.v1.0.0.json" with { type: "json" };

/**
 * A standards framework is versioned data, never code: the count, numbering and grouping come
 * from the file (a provider may import the official wording, Wales has its own framework).
 */
// Built on first use: no launch parses a framework (the bundled default is checked by a unit test).
export const FrameworkSchema = z.lazySchema(() => {
  const LocalisedSchema = z.object({
    en: z.string().check(z.minLength(1)),
    cy: z.optional(z.string().check(z.minLength(1))),
  });
  return z
    .object({
      id: z.string().check(z.regex(/^[a-z0-9-]+$/)),
      version: z.string().check(z.regex(/^\d+\.\d+\.\d+$/)),
      title: LocalisedSchema,
      jurisdiction: z.enum(["england", "wales"]),
      stem: LocalisedSchema,
      groups: z
        .array(
          z.object({
            id: z.string().check(z.minLength(1)),
            title: LocalisedSchema,
            parent: z.optional(z.string()),
          }),
        )
        .check(z.minLength(1)),
      standards: z
        .array(
          z.object({
            number: z.int().check(z.positive()),
            group: z.string().check(z.minLength(1)),
            label: LocalisedSchema,
            labelVerified: z.boolean(),
          }),
        )
        .check(z.minLength(1)),
    })
    .check(
      z.superRefine((fw, ctx) => {
        const groups = new Set(fw.groups.map((g) => g.id));
        const seen = new Set<number>();
        fw.standards.forEach((s, i) => {
          if (!groups.has(s.group)) {
            ctx.addIssue({
              code: "custom",
              path: ["standards", i, "group"],
              message: `unknown group ${s.group}`,
            });
          }
          if (seen.has(s.number)) {
            ctx.addIssue({
              code: "custom",
              path: ["standards", i, "number"],
              message: `duplicate standard ${s.number}`,
            });
          }
          seen.add(s.number);
        });
      }),
    );
});

export type Framework = z.infer<ReturnType<typeof FrameworkSchema>>;
export type Standard = Framework["standards"][number];
export type StandardGroup = Framework["groups"][number];

export interface StandardRef {
  frameworkId: string;
  frameworkVersion: string;
  number: number;
}

export function parseFramework(data: unknown): Framework {
  return FrameworkSchema().parse(data);
}

/**
 * The framework a course uses when its provider has not chosen another: the bundled, versioned
 * file as parseFramework would return it (without its `$comment`), not parsed at import. A unit
 * test (test/unit/domain/framework.test.ts) parses the file and compares.
 */
const { $comment: _comment, ...bundledDefault } = hltaEngland;
export const DEFAULT_FRAMEWORK: Framework = bundledDefault as Framework;

export function standardsByGroup(fw: Framework): { group: StandardGroup; standards: Standard[] }[] {
  return fw.groups.map((group) => ({
    group,
    standards: fw.standards.filter((s) => s.group === group.id).sort((a, b) => a.number - b.number),
  }));
}

/** A text in the launch's language where the data has it, else in English; with its language. */
export function localisedText(
  text: { en: string; cy?: string | undefined },
  locale: string | undefined,
): { text: string; lang: "cy" | "en" } {
  return locale?.toLowerCase().startsWith("cy") && text.cy
    ? { text: text.cy, lang: "cy" }
    : { text: text.en, lang: "en" };
}

export function localised(text: { en: string; cy?: string | undefined }, locale: string | undefined): string {
  return localisedText(text, locale).text;
}
