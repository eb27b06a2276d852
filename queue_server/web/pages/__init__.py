"""The HTML pages: rendered from Jinja2 templates, then kept live by each page's own script."""
