/**
 * The auth forms (`AuthForms.astro`): each posts its fields as JSON to better-auth at
 * `/api/auth/*` on this origin and shows better-auth's message if it fails. On success the
 * identity changed: `resetIdentity()` makes every live store drop what it showed for the
 * previous identity and reopens the page's sockets with the new session cookie, then the page
 * is rendered again as the new identity without a page load (`navigate`). A form marked
 * `data-reload` (a page whose island has a client of its own) reloads the page instead.
 *
 * The layout's `<ClientRouter />` swaps pages without running this module again, so the forms
 * are found by id when they are submitted, not when the module loads; the listener runs in the
 * capture phase, before the router's own (which would submit them as a page navigation).
 */

import { resetIdentity } from "@lunora/astro/client";
import { navigate } from "astro:transitions/client";

const FORMS: Record<string, { path: string; fields: string[] }> = {
  "sign-in": { path: "/sign-in/email", fields: ["email", "password"] },
  "sign-up": { path: "/sign-up/email", fields: ["name", "email", "password"] },
  "sign-out": { path: "/sign-out", fields: [] },
};

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !Object.hasOwn(FORMS, form.id)) return;
  event.preventDefault();
  const { path, fields } = FORMS[form.id]!;
  const body: Record<string, string> = {};
  for (const name of fields) {
    const value = (form.elements.namedItem(name) as HTMLInputElement).value;
    body[name] = name === "password" ? value : value.trim();
  }
  const response = await fetch(`/api/auth${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (response.ok) {
    if (form.dataset.reload !== undefined) {
      location.reload();
      return;
    }
    resetIdentity();
    await navigate(location.href, { history: "replace" });
    return;
  }
  const answer = await response.json().catch(() => ({}));
  const error = document.getElementById("auth-error");
  if (error) error.textContent = answer.message ?? `${path} failed (${response.status})`;
}, { capture: true });
