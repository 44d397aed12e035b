"""Fresh events change the member's list without retraining."""

from django.core.cache import cache
from django.urls import reverse

from recommend import services
from recommend.models import MemberList, ModelVersion


def test_viewing_products_of_another_taste_changes_the_list_at_once(
    trained, client, django_capture_on_commit_callbacks
):
    member = trained.group_a[0]
    version = ModelVersion.objects.get(status="live")
    before = MemberList.objects.get(version=version, user=member).items
    client.force_login(member)

    with django_capture_on_commit_callbacks(execute=True):
        for product in trained.b[:4]:
            client.get(product.get_absolute_url())

    row = MemberList.objects.get(version=version, user=member)
    assert row.source == MemberList.Source.FOLD_IN
    assert row.items != before
    assert not set(row.items) & {p.pk for p in trained.b[:4]}
    assert set(row.items[:8]) & {p.pk for p in trained.b[4:]}


def test_a_burst_of_events_enqueues_one_fold_in(trained, monkeypatch):
    calls = []
    monkeypatch.setattr(
        "recommend.tasks.fold_in_member.apply_async", lambda *a, **kw: calls.append(a)
    )
    member = trained.group_a[0]

    with_commit = []
    monkeypatch.setattr("django.db.transaction.on_commit", lambda fn: with_commit.append(fn))
    for _ in range(5):
        services.fold_in_enqueue(user_id=member.pk)
    for fn in with_commit:
        fn()

    assert len(calls) == 1
    cache.delete(services.FOLD_IN_KEY.format(user_id=member.pk))


def test_fold_in_without_a_live_version_does_nothing(world):
    assert services.member_fold_in(user_id=world.group_a[0].pk) is None


def test_the_favourite_api_also_folds_in(trained, api_client, django_capture_on_commit_callbacks):
    from rest_framework.authtoken.models import Token

    member = trained.group_a[1]
    token = Token.objects.create(user=member)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(reverse("browsing-api:favorites"), {"product": trained.b[0].pk})

    assert response.status_code in (200, 201)
    assert MemberList.objects.get(version__status="live", user=member).source == "fold_in"
