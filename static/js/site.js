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

// Booking pages: times are in the clinic's zone; when the patient's device is
// set to another, their own time goes beside each (the page works without it).
const clinicZone = document.querySelector("[data-clinic-zone]");
if (clinicZone) {
  const ownZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const format = (zone, options) =>
    new Intl.DateTimeFormat("en-US", { timeZone: zone, ...options });
  const dayAndTime = { weekday: "short", hour: "numeric", minute: "2-digit" };
  const inClinic = format(clinicZone.dataset.clinicZone, dayAndTime);
  const own = format(ownZone, dayAndTime);
  const ownTime = format(ownZone, { hour: "numeric", minute: "2-digit" });
  const times = [...document.querySelectorAll("time[datetime]")];
  const differs = (instant) => inClinic.format(instant) !== own.format(instant);
  if (times.some((time) => differs(new Date(time.dateTime)))) {
    for (const time of times) {
      const instant = new Date(time.dateTime);
      const sameDay = own.format(instant).slice(0, 3) === inClinic.format(instant).slice(0, 3);
      const label = document.createElement("span");
      label.className = "local-time";
      label.textContent = ` (${(sameDay ? ownTime : own).format(instant)} your time)`;
      time.after(label);
    }
    const zoneName = format(ownZone, { timeZoneName: "longGeneric" })
      .formatToParts(new Date())
      .find((part) => part.type === "timeZoneName").value;
    const note = document.createElement("span");
    note.textContent = ` Your device is set to ${zoneName}: your own times are in brackets.`;
    clinicZone.append(note);
  }
}
