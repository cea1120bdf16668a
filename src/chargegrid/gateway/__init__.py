"""The charger-facing OCPP WebSocket server."""
