// Markdown rendering for assistant replies: marked -> DOMPurify -> KaTeX -> highlight.js (the vendor
// UMD globals, loaded as classic deferred scripts before any module that uses this one runs).
// Always renders the WHOLE text; the caller batches calls (one per animation frame).
import { _ } from "./util.js";

function escapeHtml(text) {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/\x22/g, "&quot;").replace(/\x27/g, "&#39;");
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

// Math (LaTeX between $…$, $$…$$, \(…\) or \[…\]) is found by marked extensions, so code spans and
// code blocks never get any. Each formula becomes a placeholder holding its source, marked with a
// class the reply cannot guess; after the Markdown is sanitized, KaTeX turns the placeholders into
// MathML (Chromium draws MathML Core itself: no inline styles, no fonts), sanitized on its own with
// the MathML profile. A formula KaTeX cannot parse, or one still arriving, stays as its source text.
const KATEX_OPTIONS = {
  output: "mathml", throwOnError: true, trust: false, strict: "ignore", maxSize: 20, maxExpand: 500,
};
const MATH_PURIFY_CONFIG = {
  USE_PROFILES: { mathMl: true },
  ADD_TAGS: ["semantics", "annotation"],  // KaTeX keeps the TeX source as an annotation (not shown)
  FORBID_TAGS: ["annotation-xml", "maction", "mglyph"],
  FORBID_ATTR: ["href", "id", "style", "xlink:href"],
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
};
// Inline: pandoc's rule for a single $ (a non-space after the opening one and before the closing
// one, no digit right after it), so "$5 and $10" stays money. No blank line inside a formula.
const DOLLAR_INLINE = /\$(?=[^\s$])((?:\\[^\n]|[^\\$`\n]|\n(?![^\S\n]*\n))+?)\$/y;
const DOLLAR_DISPLAY = /\$\$((?:[^$\n]|\$(?!\$)|\n(?![^\S\n]*\n))+?)\$\$/y;
const PAREN_INLINE = /\\\(((?:[^\n]|\n(?![^\S\n]*\n))+?)\\\)/y;
const BRACKET_DISPLAY = /\\\[((?:[^\n]|\n(?![^\S\n]*\n))+?)\\\]/y;
// Block: a formula on lines of its own (up to three spaces in, as Markdown allows).
const BLOCK_MATH = /^ {0,3}(?:\$\$((?:[^$\n]|\$(?!\$)|\n(?![^\S\n]*\n))+?)\$\$|\\\[((?:[^\n]|\n(?![^\S\n]*\n))+?)\\\])[^\S\n]*(?:\n|$)/;
const BLOCK_MATH_START = /^ {0,3}(?:\$\$|\\\[)/gm;
const MATH_CACHE_SIZE = 500;

/** The inline formula starting at src[pos], as { raw, tex, display }, or null. afterDollar: the
 * character before pos is a $ (then a single $ opens nothing: it is the rest of an unfinished $$). */
function mathAt(src, pos, afterDollar) {
  const first = src[pos];
  if (first !== "$" && first !== "\\") return null;
  const patterns = first === "$" ? [DOLLAR_DISPLAY, DOLLAR_INLINE] : [PAREN_INLINE, BRACKET_DISPLAY];
  for (const pattern of patterns) {
    pattern.lastIndex = pos;
    const m = pattern.exec(src);
    if (!m || !m[1].trim()) continue;
    if (pattern === DOLLAR_INLINE) {
      if (afterDollar || /\s/.test(m[1].slice(-1)) || /\d/.test(src[pos + m[0].length] || "")) return null;
    }
    return { raw: m[0], tex: m[1].trim(), display: pattern === DOLLAR_DISPLAY || pattern === BRACKET_DISPLAY };
  }
  return null;
}

/** marked extensions that turn formulas into placeholders (their sources go into engine.math). */
function mathExtensions(state) {
  function slot(token, tag) {
    const index = state.formulas.push({ tex: token.tex, display: token.display }) - 1;
    const kind = token.display ? "math-display" : "math-inline";
    return `<${tag} class="${kind} ${state.slotClass} ${state.slotClass}-${index}">${escapeHtml(token.raw.trim())}</${tag}>`;
  }
  return [
    {
      name: "mathBlock",
      level: "block",
      start(src) {
        BLOCK_MATH_START.lastIndex = 0;
        for (let m = BLOCK_MATH_START.exec(src); m; m = BLOCK_MATH_START.exec(src)) {
          if (BLOCK_MATH.test(src.slice(m.index))) return m.index;
          BLOCK_MATH_START.lastIndex = m.index + 1;
        }
        return undefined;
      },
      tokenizer(src) {
        const m = BLOCK_MATH.exec(src);
        const tex = m && (m[1] !== undefined ? m[1] : m[2]).trim();
        if (tex) return { type: "mathBlock", raw: m[0], tex: tex, display: true };
        return undefined;
      },
      renderer(token) { return slot(token, "div") + "\n"; },
    },
    {
      name: "mathInline",
      level: "inline",
      start(src) {
        const index = src.search(/\$|\\[([]/);
        return index < 0 ? undefined : index;
      },
      tokenizer(src, tokens) {
        const previous = tokens.length ? tokens[tokens.length - 1].raw || "" : "";
        const found = mathAt(src, 0, previous.endsWith("$"));
        return found ? { type: "mathInline", ...found } : undefined;
      },
      renderer(token) { return slot(token, "span"); },
    },
  ];
}

/** Emphasis never pairs a * or _ outside a $ formula with one inside it: formulas are masked. */
function maskDollarMath(src) {
  if (!src.includes("$")) return src;
  let out = "";
  let done = 0;
  for (let i = src.indexOf("$"); i >= 0; i = src.indexOf("$", i)) {
    const found = mathAt(src, i, i > 0 && src[i - 1] === "$");
    if (!found) {
      i += 1;
      continue;
    }
    out += src.slice(done, i) + "$" + "a".repeat(found.raw.length - 2) + "$";
    done = i = i + found.raw.length;
  }
  return out + src.slice(done);
}

// Built on first use, not on import: review.js imports this module on pages without the vendor
// scripts (the review list), and there nothing is rendered.
let engine = null;

/** The Markdown parser and the sanitizer, with this page's hooks. */
function setUp() {
  if (engine) return engine;
  const random = new Uint32Array(2);
  crypto.getRandomValues(random);
  engine = {
    md: new marked.Marked({ gfm: true, breaks: false, async: false }),
    purify: null,
    mathPurify: null,
    // The formulas of the text being rendered, by placeholder number, and the placeholders' class.
    math: { formulas: [], slotClass: "math-" + random[0].toString(36) + random[1].toString(36) },
    mathCache: new Map(),
  };
  engine.md.use({
    extensions: mathExtensions(engine.math),
    hooks: { emStrongMask: maskDollarMath },
    renderer: {
      html(token) {
        const text = token.text || "";
        return NOISY_HTML.test(text) ? escapeHtml(text) : text;
      },
      // Task lists: a glyph instead of a checkbox (no form controls in a reply), and no bullet (CSS).
      listitem(item) {
        if (!item.task) return false;  // marked's own
        // Concatenated, not a template literal: xgettext loses its place in "${…}" and misses the strings after.
        return "<li class=\"task-list-item\">" + this.parser.parse(item.tokens) + "</li>\n";
      },
      checkbox(token) {
        return "<span class=\"task-box\">" + (token.checked ? "\u2611" : "\u2610") + "</span> ";
      },
    },
  });

  // A private DOMPurify instance, so our hooks never leak into other code on the page.
  engine.purify = DOMPurify(window);
  engine.mathPurify = DOMPurify(window);  // for KaTeX's MathML, without the hooks below

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

/** Sanitized HTML string for a Markdown text (its formulas as placeholders holding their source). */
export function toSafeHtml(text) {
  const { md, purify, math } = setUp();
  math.formulas = [];
  return purify.sanitize(md.parse(String(text)), PURIFY_CONFIG);
}

/** Sanitized MathML for a formula, or null if KaTeX cannot parse it (or is not on the page). */
function mathHtml(tex, display) {
  const cache = engine.mathCache;
  const key = (display ? "D" : "I") + tex;
  if (cache.has(key)) return cache.get(key);
  let html = null;
  if (typeof katex !== "undefined") {
    try {
      const options = Object.assign({ displayMode: display }, KATEX_OPTIONS);
      html = engine.mathPurify.sanitize(katex.renderToString(tex, options), MATH_PURIFY_CONFIG) || null;
    } catch {
      html = null;  // a ParseError: the source stays as text
    }
  }
  if (cache.size >= MATH_CACHE_SIZE) cache.delete(cache.keys().next().value);
  cache.set(key, html);
  return html;
}

/** Replaces the formula placeholders under container with MathML. */
function renderMath(container) {
  const { formulas, slotClass } = engine.math;
  if (!formulas.length) return;
  for (const slot of container.querySelectorAll("." + slotClass)) {
    const number = [...slot.classList].find(function (cls) { return cls.startsWith(slotClass + "-"); });
    const formula = number && formulas[Number(number.slice(slotClass.length + 1))];
    const html = formula ? mathHtml(formula.tex, formula.display) : null;
    slot.classList.remove(slotClass, number);
    if (html !== null) {
      slot.innerHTML = html;  // sanitized above, with the MathML profile only
    } else {
      slot.classList.add("math-error");
    }
  }
}

// Highlighting the same block again every frame is wasted work: keep recent results.
const highlightCache = new Map();
const HIGHLIGHT_CACHE_SIZE = 200;
const AUTO_DETECT_LIMIT = 20000;

// Blocks marked as plain text are shown as they are.
const PLAIN_LANGUAGES = new Set(["text", "plaintext", "txt", "plain"]);

function highlightHtml(code, language, final) {
  if (PLAIN_LANGUAGES.has(language)) return null;
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
    // A long line scrolls inside the block: a tab stop lets the keyboard scroll it too (WCAG 2.1.1).
    pre.tabIndex = 0;
    pre.replaceWith(wrapper);
    wrapper.append(header, pre);
  }
}

/** Renders Markdown text into element (replacing its content). */
export function renderMarkdown(element, text, options) {
  const final = !options || options.final !== false;
  const html = toSafeHtml(text);
  element.innerHTML = html;
  renderMath(element);
  decorateCodeBlocks(element, final);
  // A wide table scrolls sideways inside the reply (transcript.css): the keyboard can scroll it too.
  for (const table of element.querySelectorAll("table")) table.tabIndex = 0;
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

/** A read-only transcript's replies (review, a share link) rendered from the page's JSON state. */
export function renderStoredReplies(stateEl, transcript) {
  const texts = new Map(JSON.parse(stateEl.textContent).map((m) => [String(m.id), m.content]));
  for (const body of transcript.querySelectorAll('[data-role="assistant"][data-message]')) {
    const text = texts.get(body.getAttribute("data-message"));
    if (text === undefined) continue;
    body.classList.remove("is-raw");
    renderMarkdown(body, text, { final: true });
    body.classList.toggle("is-empty", text === "");
  }
  bindCopyButtons(transcript);
}
