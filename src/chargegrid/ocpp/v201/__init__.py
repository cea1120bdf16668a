"""OCPP 2.0.1: message types in `messages` (generated)."""
