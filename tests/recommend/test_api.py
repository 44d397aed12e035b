"""API: recommendations, similar, bought together, clicks; bad input gives 400."""

import pytest
from django.urls import reverse

from recommend.models import ListClick, ServedList

URL = reverse("recommend-api:recommendations")


def test_recommendations_answer_a_full_list_with_ids_and_reasons(trained, member_api):
    response = member_api.get(URL, {"context": "home", "k": 5})

    assert response.status_code == 200
    body = response.json()
    assert len(body["items"]) == 5
    assert body["list_id"] == ServedList.objects.get().pk
    assert body["version"] and body["context"] == "home"
    first = body["items"][0]
    assert set(first) == {"position", "product", "reason", "click_url"}
    assert first["reason"]["code"] and first["reason"]["text"]
    assert first["product"]["id"] in trained.untouched(member_api.member, trained.a)


@pytest.mark.parametrize(
    "params, field",
    [
        ({"k": 0}, "k"),
        ({"k": 101}, "k"),
        ({"k": "ten"}, "k"),
        ({"context": "checkout"}, "context"),
    ],
)
def test_bad_parameters_answer_400_with_the_error_shape(world, member_api, params, field):
    response = member_api.get(URL, params)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_parameter"
    assert body["message"]
    assert field in body["detail"]
    assert not ServedList.objects.exists()


def test_recommendations_need_a_member(api_client, world):
    assert api_client.get(URL).status_code == 401


def test_similar_and_bought_together_of_a_product(trained, api_client):
    product = trained.b[0]

    similar = api_client.get(reverse("recommend-api:similar", args=[product.pk]), {"k": 4})
    together = api_client.get(reverse("recommend-api:bought-together", args=[product.pk]))

    assert similar.status_code == 200 and together.status_code == 200
    assert len(similar.json()["items"]) == 4
    assert similar.json()["context"] == "similar"
    assert together.json()["context"] == "bought"
    assert product.pk not in [i["product"]["id"] for i in similar.json()["items"]]


def test_an_unknown_product_answers_404(world, api_client):
    response = api_client.get(reverse("recommend-api:similar", args=[999999]))

    assert response.status_code == 404
    assert response.json()["code"] == "product_not_found"


def test_item_list_k_out_of_range_answers_400(world, api_client):
    response = api_client.get(reverse("recommend-api:similar", args=[world.a[0].pk]), {"k": 500})

    assert response.status_code == 400


def test_a_click_is_recorded_for_the_members_own_list(trained, member_api):
    body = member_api.get(URL, {"k": 3}).json()
    product_id = body["items"][1]["product"]["id"]

    response = member_api.post(
        reverse("recommend-api:clicks"), {"list_id": body["list_id"], "product_id": product_id}
    )

    assert response.status_code == 204
    assert ListClick.objects.get().position == 1


def test_clicks_on_other_members_lists_or_other_products_are_refused(
    trained, member_api, api_client
):
    from recommend import serving

    theirs = serving.recommendations_for(user=trained.group_b[0], k=3)
    url = reverse("recommend-api:clicks")

    other = member_api.post(
        url, {"list_id": theirs.list_id, "product_id": theirs.items[0].product.pk}
    )
    wrong = member_api.post(url, {"list_id": theirs.list_id, "product_id": trained.a[0].pk})
    bad = member_api.post(url, {"list_id": "x"})

    assert other.status_code == 404 and wrong.status_code == 404
    assert bad.status_code == 400
    assert not ListClick.objects.exists()


@pytest.mark.parametrize("k", [1, 40])
def test_recommendations_endpoint_query_count_is_fixed(
    trained, member_api, k, django_assert_max_num_queries
):
    member_api.get(URL, {"k": 1})  # caches the live version

    # token + user, then the 7 of serving.recommendations_for
    with django_assert_max_num_queries(9):
        response = member_api.get(URL, {"k": k})

    assert response.status_code == 200
