"""Custom ticket fields: their definitions (admins), the values on tickets, the order lookup."""
