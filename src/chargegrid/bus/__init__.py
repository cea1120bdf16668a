"""Presence and commands across nodes: which node holds which charger's socket."""
