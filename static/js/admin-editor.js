// Admin: name each rich-text editor after its field's label, for screen readers.
document.addEventListener("prose-editor:ready", (event) => {
  const { editor, textarea } = event.detail;
  const label = document.querySelector(`label[for="${textarea.id}"]`);
  if (label) {
    editor.view.dom.setAttribute("aria-label", label.textContent.replace(/:\s*$/, "").trim());
  }
});
