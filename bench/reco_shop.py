"""A demo shop with a trained recommender for the freshness and serving benchmarks.

``ensure(db_path)`` creates (once) a SQLite database with ``seed_demo --scale
small`` and a published model (``train_recommender --budget 30``), and returns
the environment that points Django at it (DEBUG off).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "var" / "bench-reco.sqlite3"


def env_for(db_path: Path) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db_path}",
        "DJANGO_DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
    }


def ensure(db_path: Path = DEFAULT_DB, budget: int = 30) -> dict:
    env = env_for(db_path)
    env_plain = {**env, "REDIS_URL": ""}
    if not db_path.exists():
        db_path.parent.mkdir(parents=True, exist_ok=True)
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "-v0"], env=env_plain, check=True)
        subprocess.run([*manage, "seed_demo", "--scale", "small"], env=env_plain, check=True)
        subprocess.run(
            [*manage, "train_recommender", "--quiet", "--budget", str(budget)],
            env=env_plain,
            check=True,
        )
    return env
