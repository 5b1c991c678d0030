"""Customers: one profile across channels, search, merges."""
