"""Web chat: visitors of a site's chat widget, their conversation, live-chat offers and limits."""
