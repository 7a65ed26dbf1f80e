"""Counting tokens before a send: tiktoken's o200k_base from the shipped ranks, offline, once per process."""

from __future__ import annotations

import gzip
import hashlib
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import tiktoken.load
from tiktoken_ext import openai_public

from chat.demo import usage as fake_usage
from chat.upstream import tokens

RANKS_DIR = Path(tokens.RANKS).parent
SAMPLES = [
    "Hello, world! How's it going?",
    "你好，世界。今天的天气怎么样？我们去公园散步吧。",  # noqa: RUF001 - full-width punctuation on purpose
    "def area(r: float) -> float:\n    return 3.14159 * r ** 2\n\n\tprint(area(2))\r\n",
    "Ünïcödé ✓ 🚀 — naïve café, 12345678 tokens; <|endoftext|> stays text",
    "   leading spaces, trailing   \n\n\n",
]


@pytest.fixture
def fresh_encoding(monkeypatch):
    """Forget the process's encoding, so that the test sees it loaded."""
    monkeypatch.setattr(tokens, "_encoding", None)


def test_counting_never_touches_the_network(fresh_encoding, monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise AssertionError("counting tried to download or read tiktoken's cache")

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(tiktoken.load, "read_file", refuse)
    monkeypatch.setattr(tiktoken.load, "read_file_cached", refuse)
    monkeypatch.setattr(tiktoken.load, "load_tiktoken_bpe", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)

    counted = tokens.count_messages([{"role": "user", "content": "hi there"}], "gpt-4.1")

    assert counted == tokens.Count(tokens=3 + 3 + 1 + 2, exact=True, encoding="o200k_base")
    assert list(tmp_path.iterdir()) == []


def test_the_encoding_is_loaded_lazily_and_once(fresh_encoding):
    code = "import chat.upstream.tokens as t; print(t._encoding is None)"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "True"  # importing the module reads no ranks
    first = tokens.encoding()
    assert tokens.encoding() is first


def test_the_shipped_ranks_are_tiktokens_own_o200k_base(monkeypatch):
    asked = {}

    def remember(url, expected_hash=None):
        asked.update(url=url, expected_hash=expected_hash)
        return {}

    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", remember)
    official = openai_public.o200k_base()  # the constructor tiktoken would run, minus the download
    shipped = gzip.decompress(tokens.RANKS.read_bytes())
    assert asked["url"].endswith("/o200k_base.tiktoken")
    assert hashlib.sha256(shipped).hexdigest() == asked["expected_hash"]
    assert (official["pat_str"], official["special_tokens"]) == (tokens.PATTERN, tokens.SPECIAL_TOKENS)
    ours, theirs = tokens.encoding(), fake_usage.o200k()
    assert ours.n_vocab == theirs.n_vocab == 200019
    for text in SAMPLES:
        assert ours.encode_ordinary(text) == theirs.encode_ordinary(text)


def test_what_is_committed_stays_small_and_names_its_source():
    assert sum(path.stat().st_size for path in RANKS_DIR.iterdir()) <= 4 * 1024 * 1024
    refresh = (RANKS_DIR / "refresh.sh").read_text()
    version = re.search(r"^GPT_TOKENIZER_VERSION=(\S+)$", refresh, re.MULTILINE)[1]
    assert (RANKS_DIR / "VERSIONS").read_text().startswith(f"gpt-tokenizer {version} ")
    assert f"gpt-tokenizer {version}" in (RANKS_DIR / "README.md").read_text()
    assert (RANKS_DIR / "LICENSE").read_text().startswith("MIT License")


def test_a_chat_is_counted_by_the_cookbook_rule():
    messages = [
        {"role": "system", "content": "You are terse."},  # 1 + 4
        {"role": "user", "content": "hi there", "name": "alice"},  # 1 + 2 + 1 ("alice") + 1 (a name)
        {"role": "assistant", "content": ""},  # 1
    ]
    assert tokens.count_messages(messages, "o3").tokens == 3 + 3 * 3 + 5 + 5 + 1
    assert tokens.count_messages([], "o3").tokens == 3  # the reply's priming


@pytest.mark.parametrize(
    ("model", "exact"),
    [
        ("gpt-4o", True),
        ("gpt-4o-mini", True),
        ("gpt-4.1-nano", True),
        ("gpt-5.4", True),
        ("gpt-5.3-codex-spark", True),
        ("o3-pro", True),
        ("o4-mini", True),
        ("gpt-4", False),
        ("gpt-3.5-turbo", False),
        ("llama-3.1-70b", False),
        ("claude-sonnet-4", False),
    ],
)
def test_models_outside_the_o200k_families_get_an_estimate(model, exact):
    counted = tokens.count_messages([{"role": "user", "content": "hi"}], model)
    assert (counted.exact, counted.encoding, counted.tokens) == (exact, "o200k_base", 8)
