"""The typed report and its renderers (JSON schema, Markdown, HTML, GitHub)."""
