"""The workspace's pages: one module per area, each a router of thin handlers that check the
page's user (web/guard.py), call the services and render a template (web/render.py)."""
