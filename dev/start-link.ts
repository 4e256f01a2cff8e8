import { createRegistrationLink, type RegistrationLinkStore } from "../lti-tool/registration-links.js";

/** The note on the registration link each `npm start` makes. */
export const START_LINK_NOTE = "made by npm start";

/**
 * This run's registration link, in place of earlier runs' unused ones: only their hashes are
 * kept, so they cannot be shown again, and they would pile up in the list. Links an
 * administrator made, and used ones (they say which LMS registered), stay.
 */
export async function startRunLink(store: RegistrationLinkStore, now = new Date()): Promise<string> {
  for (const old of await store.list(Math.floor(now.getTime() / 1000))) {
    if (old.note === START_LINK_NOTE && !old.usedAt) await store.remove(old.id);
  }
  const { token } = await createRegistrationLink(store, { note: START_LINK_NOTE, validDays: 7, now });
  return token;
}
