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
