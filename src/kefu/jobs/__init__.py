"""Periodic jobs: one registry (``registry.py``), run by ``kefu worker`` and inside ``kefu serve``."""
