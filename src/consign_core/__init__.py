"""consign-core."""
