#!/bin/sh
# Refresh the vendored browser libraries from the npm registry.
# Usage: static/vendor/refresh.sh  (edit the versions below first, then update README.md)
set -eu

MARKED_VERSION=18.2.1
DOMPURIFY_VERSION=3.4.18
HLJS_VERSION=11.12.0
KATEX_VERSION=0.19.1
HLJS_LIGHT_THEME=github
HLJS_DARK_THEME=github-dark

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fetch() {  # fetch <package@version> <dir name>: npm pack and unpack into $tmp/<dir name>
    (cd "$tmp" && npm pack --silent "$1" > "$2.name")
    mkdir -p "$tmp/$2"
    tar xzf "$tmp/$(cat "$tmp/$2.name")" -C "$tmp/$2"
}

fetch "marked@$MARKED_VERSION" marked
fetch "dompurify@$DOMPURIFY_VERSION" dompurify
fetch "@highlightjs/cdn-assets@$HLJS_VERSION" hljs
fetch "katex@$KATEX_VERSION" katex

rm -rf "$here/marked" "$here/dompurify" "$here/highlight" "$here/katex"
mkdir -p "$here/marked" "$here/dompurify" "$here/highlight" "$here/katex"

# marked: the UMD build defines the global `marked`; its source map keeps collectstatic happy.
cp "$tmp/marked/package/lib/marked.umd.js" "$tmp/marked/package/lib/marked.umd.js.map" "$here/marked/"
cp "$tmp/marked/package/LICENSE" "$here/marked/LICENSE"

# DOMPurify: the minified browser build defines the global `DOMPurify`; dual licensed, both texts kept.
cp "$tmp/dompurify/package/dist/purify.min.js" "$tmp/dompurify/package/dist/purify.min.js.map" "$here/dompurify/"
cp "$tmp/dompurify/package/LICENSE" "$here/dompurify/LICENSE"
if [ -f "$tmp/dompurify/package/LICENSE-MPL" ]; then
    cp "$tmp/dompurify/package/LICENSE-MPL" "$here/dompurify/LICENSE-MPL"
fi

# highlight.js: the browser bundle with the common languages (global `hljs`) and two themes.
cp "$tmp/hljs/package/highlight.min.js" "$here/highlight/"
cp "$tmp/hljs/package/styles/$HLJS_LIGHT_THEME.min.css" "$here/highlight/theme-light.min.css"
cp "$tmp/hljs/package/styles/$HLJS_DARK_THEME.min.css" "$here/highlight/theme-dark.min.css"
cp "$tmp/hljs/package/LICENSE" "$here/highlight/LICENSE"

# KaTeX: the minified browser build (global `katex`). The page asks it for MathML only, which the
# browser draws by itself, so neither its CSS nor its fonts are needed.
cp "$tmp/katex/package/dist/katex.min.js" "$here/katex/"
cp "$tmp/katex/package/LICENSE" "$here/katex/LICENSE"

# Record what was fetched, so the README can be checked against the files.
{
    echo "marked $MARKED_VERSION"
    echo "dompurify $DOMPURIFY_VERSION"
    echo "@highlightjs/cdn-assets $HLJS_VERSION (themes: $HLJS_LIGHT_THEME, $HLJS_DARK_THEME)"
    echo "katex $KATEX_VERSION"
} > "$here/VERSIONS"

echo "Vendored: marked $MARKED_VERSION, DOMPurify $DOMPURIFY_VERSION, highlight.js $HLJS_VERSION, KaTeX $KATEX_VERSION"
