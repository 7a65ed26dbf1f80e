// Markdown rendering for assistant replies: marked -> DOMPurify -> highlight.js (the vendor UMD
// globals, loaded as classic deferred scripts before any module that uses this one runs).
// Always renders the WHOLE text; the caller batches calls (one per animation frame).
import { _ } from "./util.js";

function escapeHtml(text) {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

// Raw HTML carrying event handlers or <style> is shown as text. Not for safety (DOMPurify below
// does that) but because merely parsing such markup makes the browser log a CSP violation,
// once per frame while a reply streams. The person sees what the model wrote instead.
// (Quotes as \x escapes: xgettext reads a quote in a regex as the start of a string.)
const NOISY_HTML = /[\s/\x22\x27\x60]on[a-z]+\s*=|<\s*style/i;

// Stricter than the defaults, never looser: HTML only (no SVG/MathML), nothing that fetches
// media, no forms, no inline styles (the CSP would refuse them anyway).
// The page's scripts find their controls by data-* and aria-* attributes and by id, so a reply
// keeps none of them: no data-*/aria-*, and its ids and names get a "user-content-" prefix.
const PURIFY_CONFIG = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: [
    "style", "img", "picture", "source", "video", "audio", "track",
    "form", "input", "button", "textarea", "select", "option",
  ],
  FORBID_ATTR: ["style", "background", "srcset", "poster"],
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  SANITIZE_DOM: true,
  SANITIZE_NAMED_PROPS: true,
};

// Built on first use, not on import: review.js imports this module on pages without the vendor
// scripts (the review list), and there nothing is rendered.
let engine = null;

/** The Markdown parser and the sanitizer, with this page's hooks. */
function setUp() {
  if (engine) return engine;
  engine = { md: new marked.Marked({ gfm: true, breaks: false, async: false }), purify: null };
  engine.md.use({
    renderer: {
      html(token) {
        const text = token.text || "";
        return NOISY_HTML.test(text) ? escapeHtml(text) : text;
      },
    },
  });

  // A private DOMPurify instance, so our hooks never leak into other code on the page.
  engine.purify = DOMPurify(window);

  // Images are never fetched: each <img> becomes a link showing its alt text (or URL). The link is
  // inserted right after the image, so DOMPurify visits and sanitizes it (javascript: hrefs go).
  // Task-list checkboxes become plain glyphs.
  engine.purify.addHook("uponSanitizeElement", function (node, data) {
    const doc = node.ownerDocument;
    if (data.tagName === "img" && node.parentNode) {
      const src = node.getAttribute("src") || "";
      const alt = (node.getAttribute("alt") || "").trim();
      let replacement;
      if (src && !/^\s*data:/i.test(src)) {
        replacement = doc.createElement("a");
        replacement.setAttribute("href", src);
        replacement.setAttribute("class", "image-link");
        replacement.textContent = _("Image: %s").replace("%s", alt || src);
      } else {
        replacement = doc.createElement("span");
        replacement.setAttribute("class", "image-link");
        replacement.textContent = alt ? _("Image: %s").replace("%s", alt) : _("Image");
      }
      node.parentNode.insertBefore(replacement, node.nextSibling);
    } else if (data.tagName === "input" && node.parentNode) {
      if ((node.getAttribute("type") || "").toLowerCase() === "checkbox") {
        const glyph = node.hasAttribute("checked") ? "\u2611 " : "\u2610 ";
        node.parentNode.insertBefore(doc.createTextNode(glyph), node.nextSibling);
      }
    }
  });

  // Links open in a new tab without handing over window.opener or the referrer.
  engine.purify.addHook("afterSanitizeAttributes", function (node) {
    if (node.tagName === "A") {
      if (node.hasAttribute("href")) {
        node.setAttribute("target", "_blank");
        node.setAttribute("rel", "noopener noreferrer");
      } else {
        node.removeAttribute("target");
      }
    }
  });
  return engine;
}

/** Sanitized HTML string for a Markdown text. */
export function toSafeHtml(text) {
  const { md, purify } = setUp();
  return purify.sanitize(md.parse(String(text)), PURIFY_CONFIG);
}

// Highlighting the same block again every frame is wasted work: keep recent results.
const highlightCache = new Map();
const HIGHLIGHT_CACHE_SIZE = 200;
const AUTO_DETECT_LIMIT = 20000;

function highlightHtml(code, language, final) {
  const key = language + "\u0000" + (final ? "1" : "0") + "\u0000" + code;
  const hit = highlightCache.get(key);
  if (hit !== undefined) return hit;
  let html = null;
  try {
    if (language && hljs.getLanguage(language)) {
      html = hljs.highlight(code, { language: language, ignoreIllegals: true }).value;
    } else if (!language && final && code.length <= AUTO_DETECT_LIMIT) {
      // Auto-detection runs every grammar: only once the block is complete.
      html = hljs.highlightAuto(code).value;
    }
  } catch {
    html = null;
  }
  if (highlightCache.size >= HIGHLIGHT_CACHE_SIZE) {
    highlightCache.delete(highlightCache.keys().next().value);
  }
  highlightCache.set(key, html);
  return html;
}

function languageOf(codeEl) {
  for (const cls of codeEl.classList) {
    if (cls.startsWith("language-")) return cls.slice("language-".length).toLowerCase();
  }
  return "";
}

// The Copy buttons made below: only these copy, whatever markup a reply carries.
const copyButtons = new WeakSet();

/** Highlights code blocks and gives each one a header with its language and a Copy button. */
function decorateCodeBlocks(container, final) {
  for (const pre of container.querySelectorAll("pre")) {
    const code = pre.querySelector("code");
    if (!code) continue;
    const language = languageOf(code);
    // hljs escapes everything it is given, so its output is safe to assign.
    const html = highlightHtml(code.textContent, language, final);
    if (html !== null) {
      code.innerHTML = html;
      code.classList.add("hljs");
    }
    const wrapper = document.createElement("div");
    wrapper.className = "code-block";
    const header = document.createElement("div");
    header.className = "code-header";
    // Language label and button text come from CSS, so the message's text stays the reply's text.
    const label = document.createElement("span");
    label.className = "code-lang";
    label.setAttribute("data-lang", language || "text");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy-code";
    button.setAttribute("data-action", "copy");
    button.setAttribute("aria-label", _("Copy code"));
    // Shown through CSS (attr()), so that the message's text stays the reply's text.
    button.setAttribute("data-copy", _("Copy"));
    button.setAttribute("data-copied", _("Copied"));
    button.setAttribute("data-failed", _("Copy failed"));
    copyButtons.add(button);
    header.append(label, button);
    pre.replaceWith(wrapper);
    wrapper.append(header, pre);
  }
}

/** Renders Markdown text into element (replacing its content). */
export function renderMarkdown(element, text, options) {
  const final = !options || options.final !== false;
  const html = toSafeHtml(text);
  element.innerHTML = html;
  decorateCodeBlocks(element, final);
}

function fallbackCopy(text) {
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "offscreen";
  document.body.appendChild(area);
  area.select();
  let ok;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

/** Copies text to the clipboard; resolves to true on success. */
export function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    return navigator.clipboard.writeText(text).then(
      function () { return true; },
      function () { return fallbackCopy(text); }
    );
  }
  return Promise.resolve(fallbackCopy(text));
}

/** Makes the Copy buttons of the code blocks under root work (one delegated listener). */
export function bindCopyButtons(root) {
  root.addEventListener("click", function (event) {
    const button = event.target.closest('[data-action="copy"]');
    if (!button || !copyButtons.has(button)) return;
    const block = button.closest(".code-block");
    const code = block && block.querySelector("pre code, pre");
    if (!code) return;
    copyText(code.textContent).then(function (ok) {
      button.classList.toggle("is-copied", ok);
      button.classList.toggle("is-failed", !ok);
      button.setAttribute("aria-label", ok ? _("Copied") : _("Copy failed"));
      setTimeout(function () {
        button.classList.remove("is-copied", "is-failed");
        button.setAttribute("aria-label", _("Copy code"));
      }, 1500);
    });
  });
}
