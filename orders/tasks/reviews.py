"""Celery tasks: review sentiment training and scoring."""
