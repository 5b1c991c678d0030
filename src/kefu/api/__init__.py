"""HTTP API under /api/v1: thin handlers that validate, call one service, shape the response."""
