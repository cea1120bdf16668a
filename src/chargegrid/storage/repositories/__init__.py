"""Repositories: SQL for one aggregate each, returning domain values."""
