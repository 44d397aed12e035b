"""browsing's search page re-ranks a member's results through SEARCH_RERANKER."""

from django.urls import reverse

from recommend.models import MemberList


def result_ids(response):
    return [p.pk for p in response.context["products"]]


def test_a_members_search_results_put_their_picks_first(trained, client, settings):
    member = trained.group_a[0]
    picks = MemberList.objects.get(version__status="live", user=member).items[:3]
    client.force_login(member)

    settings.SEARCH_RERANKER = ""
    plain = result_ids(client.get(reverse("browsing:search"), {"q": "Book"}))
    settings.SEARCH_RERANKER = "recommend.serving.rerank_search"
    personal = result_ids(client.get(reverse("browsing:search"), {"q": "Book"}))

    assert sorted(plain) == sorted(personal)
    assert set(personal[:3]) == set(picks)
    assert plain != personal


def test_visitors_see_the_plain_order(trained, client, settings):
    settings.SEARCH_RERANKER = ""
    plain = result_ids(client.get(reverse("browsing:search"), {"q": "Book"}))
    settings.SEARCH_RERANKER = "recommend.serving.rerank_search"

    assert result_ids(client.get(reverse("browsing:search"), {"q": "Book"})) == plain


def test_the_catalogue_api_search_is_re_ranked_for_a_member(trained, member_api, settings):
    member = member_api.member
    picks = MemberList.objects.get(version__status="live", user=member).items[:3]
    url = "/api/v1/products/"

    personal = [p["id"] for p in member_api.get(url, {"q": "Book"}).json()["results"]]
    by_price = [
        p["id"] for p in member_api.get(url, {"q": "Book", "ordering": "price"}).json()["results"]
    ]
    settings.SEARCH_RERANKER = ""
    plain = [p["id"] for p in member_api.get(url, {"q": "Book"}).json()["results"]]

    assert set(personal[:3]) == set(picks)
    assert sorted(personal) == sorted(plain)
    assert len(by_price) == len(plain)
