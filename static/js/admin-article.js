// Admin: the article's change page. Character counters under the title and
// summary, previews of the article in search results and as a shared link, the
// publish checks' links to the text they are about, and a question before
// leaving the page with changes that are not saved.
"use strict";

(() => {
  let unsaved = false;
  const markUnsaved = () => {
    unsaved = true;
  };

  // Registered at once: the editor may be ready before the page has loaded.
  document.addEventListener("prose-editor:ready", (event) => {
    event.detail.editor.on("update", markUnsaved);
  });

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("article_form");
    if (!form) {
      return;
    }
    const fields = {
      title: document.getElementById("id_title"),
      summary: document.getElementById("id_summary"),
      slug: document.getElementById("id_slug"),
    };

    function addCounter(input, advice) {
      const limit = input.maxLength;
      const counter = document.createElement("div");
      counter.className = "char-counter";
      counter.id = `${input.id}_counter`;
      const describedBy = input.getAttribute("aria-describedby");
      input.setAttribute(
        "aria-describedby",
        describedBy ? `${describedBy} ${counter.id}` : counter.id,
      );
      const update = () => {
        const count = input.value.length;
        counter.textContent = `${count} of ${limit} characters${advice ? `. ${advice}` : ""}`;
        counter.classList.toggle("char-counter--full", count >= limit);
      };
      input.addEventListener("input", update);
      input.insertAdjacentElement("afterend", counter);
      update();
    }

    const previews = document.querySelector(".article-previews");

    function truncated(text, length) {
      return text.length > length ? `${text.slice(0, length - 1)}…` : text;
    }

    function showInPreviews(name, text) {
      for (const element of previews.querySelectorAll(`[data-preview="${name}"]`)) {
        element.textContent = text;
      }
    }

    function updatePreviews() {
      const { siteUrl, path, clinicName, titleLength } = previews.dataset;
      const title = fields.title.value.trim();
      const summary = fields.summary.value.trim();
      const slug = fields.slug.value.trim();
      showInPreviews("title", title || "(no title yet)");
      showInPreviews(
        "search-title",
        truncated(title ? `${title} | ${clinicName}` : clinicName, Number(titleLength)),
      );
      showInPreviews("summary", summary || "(no summary yet)");
      showInPreviews("url", `${siteUrl}${path.slice(1)}${slug ? `${slug}/` : ""}`);
    }

    // The first characters of the quoted text inside the editor, as a DOM range.
    function rangeOfQuote(root, quote) {
      const wanted = quote.replace(/…$/, "").trim().slice(0, 60);
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      const nodes = [];
      let text = "";
      while (walker.nextNode()) {
        nodes.push({ node: walker.currentNode, start: text.length });
        text += walker.currentNode.data;
      }
      const found = text.indexOf(wanted);
      if (!wanted || found < 0) {
        return null;
      }
      const at = (offset) => {
        const hit = nodes.findLast((entry) => entry.start <= offset);
        return [hit.node, offset - hit.start];
      };
      const range = document.createRange();
      range.setStart(...at(found));
      range.setEnd(...at(found + wanted.length));
      return range;
    }

    function showFinding(event) {
      const link = event.currentTarget;
      const target = document.getElementById(link.hash.slice(1));
      if (!target) {
        return;
      }
      event.preventDefault();
      const row = target.closest(".form-row") || target;
      const editor = row.querySelector(".ProseMirror[contenteditable=true]");
      if (!editor) {
        row.scrollIntoView({ block: "center" });
        (target.matches("input, select, textarea") ? target : target.querySelector("input"))?.focus();
        return;
      }
      editor.focus();
      const range = link.dataset.quote && rangeOfQuote(editor, link.dataset.quote);
      if (range) {
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        range.startContainer.parentElement.scrollIntoView({ block: "center" });
      } else {
        row.scrollIntoView({ block: "center" });
      }
    }

    if (fields.title) {
      addCounter(fields.title, "Search results show about the first 60.");
    }
    if (fields.summary) {
      addCounter(fields.summary);
    }
    if (previews && fields.title && fields.summary && fields.slug) {
      // The slug is filled in from the title by the admin's script on keyup.
      for (const type of ["input", "keyup", "change"]) {
        form.addEventListener(type, updatePreviews);
      }
      updatePreviews();
    }
    for (const link of document.querySelectorAll(".publish-check__goto")) {
      link.addEventListener("click", showFinding);
    }
    form.addEventListener("input", markUnsaved);
    form.addEventListener("change", markUnsaved);
    form.addEventListener("submit", () => {
      unsaved = false;
    });
    window.addEventListener("beforeunload", (event) => {
      if (unsaved) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
  });
})();
