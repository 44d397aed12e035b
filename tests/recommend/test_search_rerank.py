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
