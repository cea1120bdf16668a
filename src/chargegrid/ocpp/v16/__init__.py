"""OCPP 1.6J (with the 1.6 security extension): message types in `messages` (generated)."""
