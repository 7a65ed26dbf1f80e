"""Assistants: the gallery, the composer's picker, starting a chat from one, moving off a retired model."""
