"""Admin: reviews and moderation, sentiment models."""
