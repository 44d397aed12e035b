"""Training, publishing, rollback and fold-in of the recommender (the writes).

``model_train`` is what the Celery task, ``manage.py train_recommender`` and the
admin's "retrain now" all run. It takes a lock (a cache key with an expiry, plus
a check for a fresh "building" version in the database), creates a version in
status *building*, searches hyperparameters on a temporal validation split,
refits the choice on all the data, writes every member's top-N list and every
product's similar-item and bought-together lists in bulk *for the new version*
while the previous one stays live, stores the fold-in artefact, and finally
flips the live version in one transaction. A failure marks the version failed
and leaves the live one alone.
"""

from __future__ import annotations

import logging
import pickle
import time
import uuid
import zlib
from collections.abc import Callable
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from browsing.models import Event
from recommend import training
from recommend.exceptions import RollbackImpossible, TrainingLocked
from recommend.ml import pipeline
from recommend.ml.data import KIND_CODES, Interactions
from recommend.models import ItemList, MemberList, ModelArtefact, ModelVersion

logger = logging.getLogger(__name__)

LOCK_KEY = "recommend:train-lock"
FOLD_IN_KEY = "recommend:fold-in:{user_id}"
WRITE_BATCH = 2000
LIVE_CACHE_KEY = "recommend:live-version"  # serving.live_version


# --- the lock -----------------------------------------------------------------------------


def _lock_acquire() -> str:
    token = uuid.uuid4().hex
    stale = timezone.now() - timedelta(seconds=settings.RECOMMEND_TRAIN_LOCK_SECONDS)
    if not cache.add(LOCK_KEY, token, timeout=settings.RECOMMEND_TRAIN_LOCK_SECONDS):
        raise TrainingLocked()
    building = ModelVersion.objects.filter(status=ModelVersion.Status.BUILDING)
    if building.filter(created_at__gte=stale).exists():
        cache.delete(LOCK_KEY)
        raise TrainingLocked()
    # A run older than the lock's lifetime died without cleaning up.
    building.update(status=ModelVersion.Status.FAILED, error="abandoned (lock expired)")
    return token


def _lock_release(token: str) -> None:
    if cache.get(LOCK_KEY) == token:
        cache.delete(LOCK_KEY)


def training_is_running() -> bool:
    return cache.get(LOCK_KEY) is not None


# --- training -----------------------------------------------------------------------------


def model_train(
    *,
    triggered_by: str = "command",
    budget_seconds: float | None = None,
    validation_users: int | None = None,
    families: list[str] | None = None,
    log: Callable[[str], None] | None = None,
) -> ModelVersion:
    """Train, select hyperparameters, publish a new live version; returns it.

    Raises ``TrainingLocked`` when another run holds the lock. Side effects: a
    ModelVersion (building -> live, the previous live one retired), its lists
    and artefact; lists of versions beyond ``RECOMMEND_KEEP_VERSIONS`` purged.
    """
    token = _lock_acquire()
    budget = settings.RECOMMEND_SEARCH_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    try:
        version = ModelVersion.objects.create(
            triggered_by=triggered_by[:32],
            params={
                "budget_seconds": budget,
                "validation_users": validation_users or settings.RECOMMEND_VALIDATION_USERS,
                "threads": settings.RECOMMEND_THREADS,
                "families": families,
            },
            stage="loading",
        )
    except BaseException:
        _lock_release(token)  # or no run could start before the lock expires (an hour)
        raise
    say = log or (lambda message: logger.info("recommend v%s: %s", version.pk, message))
    try:
        _train_into(version, budget, validation_users, families, say)
    except BaseException as exc:
        # only a version that never went live fails: an error after publishing (the
        # purge of old versions) must not take the new live version down with it
        failed = ModelVersion.objects.filter(pk=version.pk).exclude(status=ModelVersion.Status.LIVE)
        failed.update(
            status=ModelVersion.Status.FAILED, error=repr(exc)[:2000], finished_at=timezone.now()
        )
        raise
    finally:
        _lock_release(token)
    version.refresh_from_db()
    return version


def _progress(version: ModelVersion, fraction: float, stage: str) -> None:
    ModelVersion.objects.filter(pk=version.pk).update(
        progress=round(fraction, 3), stage=stage[:100]
    )


def _train_into(version, budget, validation_users, families, say) -> None:
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 2)
        clock = now

    data = training.load_interactions()
    lap("load")
    inter = data.inter
    say(f"{len(inter)} events, {inter.n_users} members, {inter.n_items} products")
    ModelVersion.objects.filter(pk=version.pk).update(
        n_events=len(inter), n_members=inter.n_users, n_products=inter.n_items
    )
    _progress(version, 0.05, "search")
    if len(inter) == 0:
        choice = pipeline.Choice(components=[], hybrid=False, notes=["no interactions"])
    else:
        choice = pipeline.Search(
            inter,
            budget_seconds=budget,
            max_val_users=validation_users or settings.RECOMMEND_VALIDATION_USERS,
            threads=settings.RECOMMEND_THREADS,
            families=families,
            log=say,
            progress=lambda f, stage: _progress(version, 0.05 + 0.6 * f, stage),
        ).run()
    lap("search")
    say(f"chosen: {choice.components}")
    _progress(version, 0.7, "refit")
    fitted = pipeline.Fitted(inter, choice, threads=settings.RECOMMEND_THREADS)
    lap("refit")
    _progress(version, 0.75, "member lists")
    n_lists = _write_member_lists(version, data, fitted)
    lap("member_lists")
    _progress(version, 0.85, "item lists")
    popular_vector = _popularity_vector(fitted, inter)
    popular, by_category = training.popularity_lists(data, popular_vector)
    _write_item_lists(version, data, fitted)
    lap("item_lists")
    artefact = {
        **fitted.artefact(),
        "item_ids": data.item_ids,
        "popular_vector": popular_vector,
    }
    blob = zlib.compress(pickle.dumps(artefact, protocol=pickle.HIGHEST_PROTOCOL), 3)
    ModelArtefact.objects.create(version=version, data=blob, size=len(blob))
    lap("artefact")
    ModelVersion.objects.filter(pk=version.pk).update(
        hyperparameters={
            "components": choice.components,
            "hybrid": choice.hybrid,
            "similarity": choice.similarity,
            "notes": choice.notes,
        },
        validation=choice.validation,
        trials=choice.trials,
        timings=timings,
        popular=popular,
        popular_by_category=by_category,
        stage="publishing",
        progress=0.95,
    )
    say(f"{n_lists} member lists written; publishing")
    version_publish(version_id=version.pk)
    _purge_old_versions()


def _popularity_vector(fitted: pipeline.Fitted, inter: Interactions) -> np.ndarray:
    for model, _data, _w in fitted.components:
        if model.family == "pop":
            return model.vector
    from recommend.ml.algorithms import Popularity

    return Popularity(window=1.0).fit(fitted.context(("binary", None))).vector


def _write_member_lists(version, data, fitted) -> int:
    if not fitted.components:
        return 0
    size = settings.RECOMMEND_LIST_SIZE
    now = timezone.now()
    batch, written = [], 0
    for users, top, scores in fitted.rank_all(size):
        for r, u in enumerate(users):
            finite = np.isfinite(scores[r])
            batch.append(
                MemberList(
                    version=version,
                    user_id=int(data.user_ids[u]),
                    items=[int(x) for x in data.item_ids[top[r][finite]]],
                    scores=[round(float(x), 4) for x in scores[r][finite]],
                    updated_at=now,
                )
            )
        if len(batch) >= WRITE_BATCH:
            MemberList.objects.bulk_create(batch, batch_size=WRITE_BATCH)
            written += len(batch)
            batch = []
    MemberList.objects.bulk_create(batch, batch_size=WRITE_BATCH)
    return written + len(batch)


def _write_item_lists(version, data, fitted) -> None:
    k = settings.RECOMMEND_SIMILAR_SIZE
    cf: dict[int, tuple[list, list]] = {}
    if fitted.similarity_model is not None:
        S = fitted.similarity_model.similarity().tocsr()
        for row in range(S.shape[0]):
            lo, hi = S.indptr[row], S.indptr[row + 1]
            if lo == hi:
                continue
            order = np.argsort(-S.data[lo:hi])[:k]
            cf[int(data.item_ids[row])] = (
                [int(x) for x in data.item_ids[S.indices[lo:hi][order]]],
                [round(float(x), 5) for x in S.data[lo:hi][order]],
            )
    # content similarity fills the lists collaborative filtering leaves short
    full = {pk for pk, (items, _scores) in cf.items() if len(items) >= k}
    active = training.Product.objects.filter(is_active=True).values_list("pk", flat=True)
    short = [pk for pk in active.iterator(chunk_size=10_000) if pk not in full]
    content = training.content_neighbours(k, only=short)
    rows = []
    for product_id in set(cf) | set(content):
        items, scores = cf.get(product_id, ([], []))
        items, scores = list(items), list(scores)
        for other, score in zip(*content.get(product_id, ([], [])), strict=True):
            if len(items) >= k:
                break
            if other not in items and other != product_id:
                items.append(other)
                scores.append(0.0)  # content fill ranks after every CF neighbour
                _ = score
        rows.append(
            ItemList(
                version=version,
                product_id=product_id,
                kind=ItemList.Kind.SIMILAR,
                items=items,
                scores=scores,
            )
        )
    for product_id, (items, scores, stats) in training.bought_together(data.baskets, k).items():
        rows.append(
            ItemList(
                version=version,
                product_id=product_id,
                kind=ItemList.Kind.BOUGHT_TOGETHER,
                items=items,
                scores=scores,
                stats=stats,
            )
        )
    existing = set(
        training.Product.objects.filter(pk__in=[r.product_id for r in rows]).values_list(
            "pk", flat=True
        )
    )
    ItemList.objects.bulk_create(
        [r for r in rows if r.product_id in existing], batch_size=WRITE_BATCH
    )


# --- publishing and rollback ---------------------------------------------------------------


def version_publish(*, version_id: int) -> ModelVersion:
    """Make a complete version live in one transaction; the previous live one retires.

    Allowed from *building* (the end of a run) and *retired* (rollback) when the
    version's lists are still stored. Rows are locked in pk order.
    """
    with transaction.atomic():
        ids = sorted(
            set(
                ModelVersion.objects.filter(status=ModelVersion.Status.LIVE).values_list(
                    "pk", flat=True
                )
            )
            | {version_id}
        )
        locked = {
            v.pk: v
            for v in ModelVersion.objects.select_for_update().filter(pk__in=ids).order_by("pk")
        }
        # a publish / rollback that committed while we waited for the locks made another
        # version live: lock it too (its row was not in ``ids``), or two would be live
        while extra := list(
            ModelVersion.objects.select_for_update()
            .filter(status=ModelVersion.Status.LIVE)
            .exclude(pk__in=list(locked))
            .order_by("pk")
        ):
            locked.update((v.pk, v) for v in extra)
        version = locked.get(version_id)
        if version is None:
            raise RollbackImpossible(detail={"version": version_id})
        if version.status == ModelVersion.Status.LIVE:
            return version
        if version.status not in (ModelVersion.Status.BUILDING, ModelVersion.Status.RETIRED):
            raise RollbackImpossible(detail={"version": version_id, "status": version.status})
        if version.lists_purged:
            raise RollbackImpossible(
                _("The lists of this version were purged."), detail={"version": version_id}
            )
        now = timezone.now()
        for other in locked.values():
            if other.pk != version_id and other.status == ModelVersion.Status.LIVE:
                other.status = ModelVersion.Status.RETIRED
                other.save(update_fields=["status"])
        version.status = ModelVersion.Status.LIVE
        version.progress = 1.0
        version.stage = "live"
        version.published_at = now
        version.finished_at = version.finished_at or now
        version.save(update_fields=["status", "progress", "stage", "published_at", "finished_at"])
    transaction.on_commit(lambda: cache.delete(LIVE_CACHE_KEY))
    return version


def version_rollback(*, version_id: int) -> ModelVersion:
    """Make an earlier (retired) version live again."""
    return version_publish(version_id=version_id)


def _purge_old_versions() -> None:
    """Drop the lists of versions beyond the newest ``RECOMMEND_KEEP_VERSIONS`` finished ones."""
    keep = settings.RECOMMEND_KEEP_VERSIONS
    finished = ModelVersion.objects.filter(
        status__in=[ModelVersion.Status.RETIRED, ModelVersion.Status.FAILED], lists_purged=False
    ).order_by("-created_at", "-id")
    for old in list(finished[max(0, keep - 1) :]):
        MemberList.objects.filter(version=old).delete()
        ItemList.objects.filter(version=old).delete()
        ModelArtefact.objects.filter(version=old).delete()
        ModelVersion.objects.filter(pk=old.pk).update(lists_purged=True)


# --- fold-in ------------------------------------------------------------------------------

_ARTEFACTS: dict[int, dict] = {}


def artefact_load(version_id: int) -> dict | None:
    """The version's artefact, unpickled once per process (versions never change)."""
    if version_id not in _ARTEFACTS:
        blob = (
            ModelArtefact.objects.filter(version_id=version_id)
            .values_list("data", flat=True)
            .first()
        )
        if blob is None:
            return None
        art = pickle.loads(zlib.decompress(bytes(blob)))  # noqa: S301  (our own pickle)
        art["item_index"] = {int(pk): i for i, pk in enumerate(art["item_ids"])}
        _ARTEFACTS.clear()  # one version per process is enough
        _ARTEFACTS[version_id] = art
    return _ARTEFACTS[version_id]


def member_fold_in(*, user_id: int) -> MemberList | None:
    """Rewrite the member's list in the live version from all their events, now.

    Folds the member's interactions into the live model without retraining
    (ALS: the closed-form user solve; item-based models: their stored
    similarity; the validated blend), drops what they interacted with and
    stores the top-N. None when there is no live version or the member has no
    event on a product the model knows (serving then uses cold start).
    """
    version_id = (
        ModelVersion.objects.filter(status=ModelVersion.Status.LIVE)
        .values_list("pk", flat=True)
        .first()
    )
    if version_id is None:
        return None
    art = artefact_load(version_id)
    if art is None or not art["components"]:
        return None
    rows = Event.objects.filter(
        user_id=user_id, product__isnull=False, event_type__in=list(KIND_CODES)
    ).values_list("product_id", "event_type", "value", "occurred_at")
    index = art["item_index"]
    items, kinds, values, times = [], [], [], []
    for product_id, event_type, value, occurred_at in rows:
        i = index.get(product_id)
        if i is None:
            continue
        items.append(i)
        kinds.append(KIND_CODES[event_type])
        values.append(float(value) if value is not None and event_type == "rating" else np.nan)
        times.append(occurred_at.timestamp())
    if not items:
        return None
    inter = Interactions(
        np.zeros(len(items), dtype=np.int32),
        np.array(items, dtype=np.int32),
        np.array(kinds, dtype=np.int8),
        np.array(values, dtype=np.float32),
        np.array(times, dtype=np.float64),
        1,
        art["n_items"],
    )
    scores = pipeline.fold_in_scores(art, inter)
    size = min(settings.RECOMMEND_LIST_SIZE, int(np.isfinite(scores).sum()))
    top = np.argsort(-scores, kind="stable")[:size]
    member_list, _created = MemberList.objects.update_or_create(
        version_id=version_id,
        user_id=user_id,
        defaults={
            "items": [int(art["item_ids"][i]) for i in top],
            "scores": [round(float(scores[i]), 4) for i in top],
            "source": MemberList.Source.FOLD_IN,
            "updated_at": timezone.now(),
        },
    )
    return member_list


def fold_in_enqueue(*, user_id: int | None) -> bool:
    """Schedule a fold-in of the member after the transaction commits, once per burst.

    A cache key (expiring after ``RECOMMEND_FOLD_IN_COALESCE_SECONDS``) makes a
    burst of events cost one task; the task clears it when it starts, so events
    arriving during the run schedule the next one.
    """
    if not user_id:
        return False
    delay = settings.RECOMMEND_FOLD_IN_COALESCE_SECONDS
    if not cache.add(FOLD_IN_KEY.format(user_id=user_id), 1, timeout=max(1, int(delay) + 30)):
        return False
    from recommend.tasks import fold_in_member

    transaction.on_commit(lambda: fold_in_member.apply_async((user_id,), countdown=delay))
    return True


# --- new products -------------------------------------------------------------------------

NEW_PRODUCT_NEIGHBOURS = 5  # lists of its closest products that a new product joins


def product_cold_start_enqueue(*, product_id: int) -> None:
    from recommend.tasks import product_content_neighbours

    transaction.on_commit(lambda: product_content_neighbours.delay(product_id))


def product_cold_start(*, product_id: int) -> bool:
    """Content-based similar items for a product the live version does not know.

    Writes its similar-item list and puts it into the lists of its closest
    products (after their collaborative neighbours), so it can be found before
    the next training. False when there is no live version or it has a list.
    """
    version_id = (
        ModelVersion.objects.filter(status=ModelVersion.Status.LIVE)
        .values_list("pk", flat=True)
        .first()
    )
    if version_id is None:
        return False
    lists = ItemList.objects.filter(version_id=version_id, kind=ItemList.Kind.SIMILAR)
    if lists.filter(product_id=product_id).exists():
        return False
    k = settings.RECOMMEND_SIMILAR_SIZE
    neighbours = training.content_neighbours(k, only=[product_id]).get(product_id)
    if not neighbours:
        return False
    items, scores = neighbours
    with transaction.atomic():
        ItemList.objects.get_or_create(
            version_id=version_id,
            kind=ItemList.Kind.SIMILAR,
            product_id=product_id,
            defaults={"items": items, "scores": [0.0] * len(items)},
        )
        closest = items[:NEW_PRODUCT_NEIGHBOURS]
        for row in lists.select_for_update().filter(product_id__in=closest).order_by("pk"):
            if product_id in row.items:
                continue
            # after the collaborative neighbours (score > 0), before the content fill
            cut = sum(1 for s in row.scores if s > 0)
            row.items = (row.items[:cut] + [product_id] + row.items[cut:])[:k]
            row.scores = (row.scores[:cut] + [0.0] + row.scores[cut:])[:k]
            row.save(update_fields=["items", "scores"])
        missing = [pk for pk in closest if not lists.filter(product_id=pk).exists()]
        ItemList.objects.bulk_create(
            [
                ItemList(
                    version_id=version_id,
                    kind=ItemList.Kind.SIMILAR,
                    product_id=pk,
                    items=[product_id],
                    scores=[0.0],
                )
                for pk in missing
            ],
            ignore_conflicts=True,
        )
    return True


# --- evaluation ---------------------------------------------------------------------------


def model_evaluate(*, max_users: int = 5000, log: Callable[[str], None] | None = None) -> dict:
    """Leave-last-out evaluation of the live version's tuned models and hybrid.

    Uses each family's best validated configuration from the live version (the
    search defaults when there is no live version); stores the results on the
    live version's ``evaluation``.
    """
    live = ModelVersion.objects.filter(status=ModelVersion.Status.LIVE).first()
    data = training.load_interactions()
    if len(data.inter) == 0:
        return {}
    configs, hybrid = [], None
    if live and live.validation:
        for family, m in live.validation.items():
            if family != "hybrid" and "params" in m:
                configs.append({"family": family, "params": m["params"], "data": m["data"]})
        hybrid = live.hyperparameters.get("components") or None
    else:
        configs = [
            {"family": f, "params": pipeline.STARTS[f], "data": ["binary", None]}
            for f in pipeline.ORDER
        ]
    if not pipeline.EASE.fits(data.inter.n_items):
        configs = [c for c in configs if c["family"] != "ease"]
    results = pipeline.evaluate(
        data.inter,
        configs,
        hybrid=hybrid,
        max_users=max_users,
        threads=settings.RECOMMEND_THREADS,
        log=log,
    )
    if live is not None and results:
        ModelVersion.objects.filter(pk=live.pk).update(
            evaluation={"at": timezone.now().isoformat(), "users": max_users, "models": results}
        )
    return results
