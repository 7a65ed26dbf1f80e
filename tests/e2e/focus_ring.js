// The focused element's focus indicator, for the browser tests (tests/e2e/test_sidebar_browser.py):
// its outline, a box-shadow ring, or the ring of an ancestor's :focus-within rule; the background
// painted beside it; and the contrast of the two (WCAG's relative luminance). Evaluated, not loaded.
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const parse = (text) => {
    const m = text.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const [r, g, b, a] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return {r, g, b, a: a === undefined ? 1 : a};
  };
  const over = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a), a: 1,
  });
  const backdrop = (node) => {  // the colour painted behind node: its own and its ancestors' backgrounds
    const layers = [];
    for (let n = node; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    return layers.reverse().reduce((under, top) => over(top, under), {r: 255, g: 255, b: 255, a: 1});
  };
  const ring = (node) => {
    const style = getComputedStyle(node);
    if (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 1) {
      const inside = parseFloat(style.outlineOffset) < 0;
      return {colour: parse(style.outlineColor), beside: inside ? node : node.parentElement, kind: "outline"};
    }
    // Each box-shadow layer: "rgb(…) x y blur spread [inset]"; a ring has a spread.
    for (const layer of style.boxShadow.split(/,(?![^(]*\))/)) {
      const numbers = layer.replace(/rgba?\([^)]*\)/, "").trim().split(/\s+/).map(parseFloat);
      if (numbers.length >= 4 && numbers[3] >= 1) {
        return {colour: parse(layer), beside: layer.includes("inset") ? node : node.parentElement, kind: "shadow"};
      }
    }
    return null;
  };
  let found = ring(el), holder = el;
  for (let n = el.parentElement, up = 0; !found && n && up < 3; n = n.parentElement, up++) {
    if (n.matches(":focus-within")) { found = ring(n); holder = n; }
  }
  const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "") + " " + (el.getAttribute("aria-label") || el.textContent || "").trim().slice(0, 30);
  if (!found || !found.colour) return {name, ratio: 0, kind: "none"};
  const under = backdrop(found.beside || holder);
  const colour = over(found.colour, under);
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const [hi, lo] = [lum(colour), lum(under)].sort((x, y) => y - x);
  return {name, ratio: (hi + 0.05) / (lo + 0.05), kind: found.kind};
}
