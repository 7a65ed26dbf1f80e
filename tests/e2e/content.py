"""What the browser tests type: the demo echoes a message, so one with Markdown comes back rendered."""

HELLO = """Hello! Here is **some Markdown**:

- a list
- of three
- items

```python
def greet(name: str) -> str:
    return f"Hello, {name}!"
```"""
