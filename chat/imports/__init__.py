"""Bringing history in: ChatGPT exports and our own export.json, imported in the background."""
