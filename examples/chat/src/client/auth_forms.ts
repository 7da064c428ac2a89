/**
 * The auth forms (`AuthForms.astro`): each posts its fields as JSON to better-auth at
 * `/api/auth/*` on this origin, reloads on success, and shows better-auth's message if not.
 */

function authForm(id: string, path: string, fields: string[]): void {
  document.getElementById(id)?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
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
      location.reload();
      return;
    }
    const answer = await response.json().catch(() => ({}));
    const error = document.getElementById("auth-error");
    if (error) {
      error.textContent = answer.message ??
        `${path} failed (${response.status})`;
    }
  });
}

authForm("sign-in", "/sign-in/email", ["email", "password"]);
authForm("sign-up", "/sign-up/email", ["name", "email", "password"]);
authForm("sign-out", "/sign-out", []);
