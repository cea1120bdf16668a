"""Domain services: each takes a database connection inside the caller's transaction."""
