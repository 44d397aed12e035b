"""Admin: versions with progress and metrics, retrain now, roll back, compare."""

import pytest
from django.urls import reverse

from recommend import services
from recommend.models import ModelVersion
from tests.factories import UserFactory

CHANGELIST = reverse("admin:recommend_modelversion_changelist")


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(email="staff@example.com", is_staff=True, is_superuser=True))
    return client


def test_version_list_shows_progress_model_and_metrics(trained, staff_client):
    version = ModelVersion.objects.get()

    html = staff_client.get(CHANGELIST).content.decode()

    assert "<progress" in html
    assert version.hyperparameters["components"][0]["family"] in html
    assert "HR@10" in html


def test_retrain_now_trains_a_new_version(trained, staff_client):
    response = staff_client.post(
        CHANGELIST,
        {"action": "retrain_now", "_selected_action": [ModelVersion.objects.get().pk]},
    )

    assert response.status_code == 302
    assert ModelVersion.objects.filter(status="live").count() == 1
    assert ModelVersion.objects.count() == 2


def test_roll_back_to_a_retired_version(trained, staff_client):
    first = ModelVersion.objects.get()
    services.model_train(triggered_by="test", budget_seconds=0.5)

    staff_client.post(CHANGELIST, {"action": "roll_back_to", "_selected_action": [first.pk]})

    first.refresh_from_db()
    assert first.status == ModelVersion.Status.LIVE


def test_compare_shows_versions_side_by_side(trained, staff_client):
    services.model_train(triggered_by="test", budget_seconds=0.5)
    ids = list(ModelVersion.objects.values_list("pk", flat=True))

    response = staff_client.post(CHANGELIST, {"action": "compare", "_selected_action": ids})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Compare model versions" in html
    assert html.count("HR@10") >= 2
