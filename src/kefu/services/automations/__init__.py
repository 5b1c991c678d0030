"""Lifecycle automations and admins' triggers (自动化规则): domain/automations.py applied."""
