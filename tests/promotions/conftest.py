import pytest


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """``with on_commit(): ...`` runs the transaction.on_commit callbacks (signals, then the
    tasks their receivers enqueue) at the end of the block, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
