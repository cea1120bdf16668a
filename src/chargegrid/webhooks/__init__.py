"""Sending webhook deliveries to their receivers (HTTP; the events are queued by the domain)."""
