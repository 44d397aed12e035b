"""Run functions at once in real threads (PostgreSQL concurrency tests)."""

import threading

from django.db import connection


def run_in_threads(functions):
    """Start every function at the same moment; returns (results, errors) as they came."""
    barrier = threading.Barrier(len(functions))
    results, errors = [], []

    def worker(function):
        try:
            barrier.wait()
            results.append(function())
        except Exception as exc:  # collected for the assertions
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(f,)) for f in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, errors
