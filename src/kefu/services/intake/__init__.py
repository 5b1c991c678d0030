"""Intake: customer messages in from integrations, stored first, analyzed, retried."""
