"""``python -m ugrn_core.methods``: print the method registry as the README's Markdown table."""

from . import markdown_table

print(markdown_table(), end="")
