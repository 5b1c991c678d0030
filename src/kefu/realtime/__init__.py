"""Realtime: the event bus that carries committed domain events to subscribers."""
