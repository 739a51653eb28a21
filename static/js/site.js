// The menu button on small screens, in place of Bootstrap's collapse plugin
// (its 80 KB script would be loaded on every page for this alone).
document.querySelector("[data-menu-toggle]")?.addEventListener("click", (event) => {
  const button = event.currentTarget;
  const menu = document.getElementById(button.getAttribute("aria-controls"));
  const open = button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(open));
  menu.classList.toggle("show", open);
});

// Copy-link button for article share links; no third-party scripts.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy-link]");
  if (!button) return;
  const status = button.parentElement.querySelector("[data-copy-status]");
  try {
    await navigator.clipboard.writeText(button.dataset.copyLink);
    status.textContent = "Link copied.";
  } catch {
    status.textContent = "Copy failed: select the address bar and copy the link from there.";
  }
});

// Consultation form: show the crisis guidance as soon as the message suggests
// a risk of self-harm (the server checks again on submit).
const riskField = document.querySelector("[data-risk-pattern]");
const crisisGuidance = document.querySelector("[data-crisis-guidance]");
if (riskField && crisisGuidance) {
  const risk = new RegExp(riskField.dataset.riskPattern, "i");
  const update = () => {
    crisisGuidance.hidden = !risk.test(riskField.value);
  };
  riskField.addEventListener("input", update);
  update();
}
