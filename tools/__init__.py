"""Maintenance commands for the lab's source tree (not imported by the app)."""
