"""Training publishes a version atomically, keeps the old one until then, can be
rolled back, and never overlaps with another run."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from recommend import services
from recommend.exceptions import RollbackImpossible, TrainingLocked
from recommend.models import ItemList, MemberList, ModelArtefact, ModelVersion


def live():
    return ModelVersion.objects.get(status=ModelVersion.Status.LIVE)


def test_training_publishes_a_live_version_with_a_list_for_every_member(world):
    version = services.model_train(triggered_by="test", budget_seconds=1.0)

    assert version.status == ModelVersion.Status.LIVE
    assert version.progress == 1.0
    assert MemberList.objects.filter(version=version).count() == 24
    assert ItemList.objects.filter(version=version, kind=ItemList.Kind.SIMILAR).count() == 16
    assert ModelArtefact.objects.filter(version=version).exists()
    assert version.hyperparameters["components"]
    assert version.validation and version.trials
    assert {"load", "search", "refit", "member_lists"} <= set(version.timings)
    assert version.popular and version.popular_by_category


def test_members_of_two_taste_groups_get_their_own_groups_products_first(trained):
    world = trained
    version = live()
    for member in world.group_a:
        items = MemberList.objects.get(version=version, user=member).items
        assert set(items[:3]) == world.untouched(member, world.a)
    for member in world.group_b:
        items = MemberList.objects.get(version=version, user=member).items
        assert set(items[:3]) == world.untouched(member, world.b)


def test_stored_lists_leave_out_what_the_member_interacted_with(trained):
    member = trained.group_a[1]
    items = MemberList.objects.get(version=live(), user=member).items

    assert not set(items) & set(trained.touched[member.pk])


def test_a_new_version_retires_the_old_one_and_rollback_restores_it(trained):
    first = live()

    second = services.model_train(triggered_by="test", budget_seconds=1.0)

    first.refresh_from_db()
    assert second.status == ModelVersion.Status.LIVE
    assert first.status == ModelVersion.Status.RETIRED

    services.version_rollback(version_id=first.pk)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == ModelVersion.Status.LIVE
    assert second.status == ModelVersion.Status.RETIRED
    assert ModelVersion.objects.filter(status=ModelVersion.Status.LIVE).count() == 1


def test_old_versions_beyond_the_kept_ones_are_purged_and_cannot_come_back(trained, settings):
    settings.RECOMMEND_KEEP_VERSIONS = 2
    first = live()
    services.model_train(triggered_by="test", budget_seconds=0.5)
    services.model_train(triggered_by="test", budget_seconds=0.5)

    first.refresh_from_db()
    assert first.lists_purged
    assert not MemberList.objects.filter(version=first).exists()
    with pytest.raises(RollbackImpossible):
        services.version_rollback(version_id=first.pk)


def test_a_run_is_refused_while_another_holds_the_lock(world):
    cache.set(services.LOCK_KEY, "someone-else", 60)

    with pytest.raises(TrainingLocked):
        services.model_train(triggered_by="test", budget_seconds=0.5)

    assert not ModelVersion.objects.exists()


def test_a_run_is_refused_while_a_fresh_version_is_building(world):
    ModelVersion.objects.create(status=ModelVersion.Status.BUILDING)

    with pytest.raises(TrainingLocked):
        services.model_train(triggered_by="test", budget_seconds=0.5)

    assert cache.get(services.LOCK_KEY) is None  # released for the next try


def test_an_abandoned_building_version_is_marked_failed_and_training_goes_on(world, settings):
    stale = ModelVersion.objects.create(
        status=ModelVersion.Status.BUILDING,
        created_at=timezone.now() - timedelta(seconds=settings.RECOMMEND_TRAIN_LOCK_SECONDS + 5),
    )

    version = services.model_train(triggered_by="test", budget_seconds=0.5)

    stale.refresh_from_db()
    assert stale.status == ModelVersion.Status.FAILED
    assert version.status == ModelVersion.Status.LIVE


def test_a_failed_run_leaves_the_live_version_alone(trained, monkeypatch):
    first = live()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_write_member_lists", boom)
    with pytest.raises(RuntimeError):
        services.model_train(triggered_by="test", budget_seconds=0.5)

    assert live() == first
    failed = ModelVersion.objects.get(status=ModelVersion.Status.FAILED)
    assert "disk full" in failed.error
    assert cache.get(services.LOCK_KEY) is None


def test_an_error_after_publishing_keeps_the_new_version_live(trained, monkeypatch):
    first = live()

    def boom(*args, **kwargs):
        raise RuntimeError("purge failed")

    monkeypatch.setattr(services, "_purge_old_versions", boom)
    with pytest.raises(RuntimeError):
        services.model_train(triggered_by="test", budget_seconds=0.5)

    new = live()
    assert new != first
    assert MemberList.objects.filter(version=new).exists()
    assert not ModelVersion.objects.filter(status=ModelVersion.Status.FAILED).exists()
    assert cache.get(services.LOCK_KEY) is None


def test_training_with_no_events_publishes_an_empty_version(db):
    version = services.model_train(triggered_by="test", budget_seconds=0.5)

    assert version.status == ModelVersion.Status.LIVE
    assert not MemberList.objects.exists()


def test_the_purged_version_message_is_translated(trained, settings):
    from django.utils import translation

    settings.RECOMMEND_KEEP_VERSIONS = 1
    first = live()
    services.model_train(triggered_by="test", budget_seconds=0.5)
    first.refresh_from_db()
    assert first.lists_purged

    with translation.override("zh-hans"), pytest.raises(RollbackImpossible) as caught:
        services.version_rollback(version_id=first.pk)

    assert str(caught.value.message) != "The lists of this version were purged."


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_publish_waiting_on_a_concurrent_rollback_still_leaves_one_live_version(settings):
    """The publish reads the live version, a rollback switches it and commits while the
    publish waits for the row lock: the publish must retire the rolled-back one too."""
    import threading
    import time

    from django.db import connection, transaction

    old, live_one, new = (
        ModelVersion.objects.create(status=status, triggered_by="test")
        for status in (ModelVersion.Status.RETIRED, ModelVersion.Status.LIVE, "building")
    )
    switched, errors = threading.Event(), []

    def rollback():
        try:
            with transaction.atomic():
                list(ModelVersion.objects.select_for_update().filter(pk=live_one.pk))
                ModelVersion.objects.filter(pk=live_one.pk).update(status="retired")
                ModelVersion.objects.filter(pk=old.pk).update(status="live")
                switched.set()
                time.sleep(1.0)  # the publish reads {live_one} and waits for its lock
        finally:
            connection.close()

    def publish():
        try:
            switched.wait(5)
            services.version_publish(version_id=new.pk)
        except Exception as exc:  # collected for the assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=rollback), threading.Thread(target=publish)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors
    assert list(ModelVersion.objects.filter(status="live").values_list("pk", flat=True)) == [new.pk]


def test_a_run_that_cannot_even_start_releases_the_lock(world, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(ModelVersion.objects, "create", boom)
    with pytest.raises(RuntimeError):
        services.model_train(triggered_by="test", budget_seconds=0.5)

    assert cache.get(services.LOCK_KEY) is None
