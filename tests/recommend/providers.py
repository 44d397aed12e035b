"""A RECOMMEND_EXCLUDE_PROVIDERS entry for the tests (like membership's tier filter)."""

HIDDEN: set[int] = set()


def hidden_products(user) -> set[int]:
    return set(HIDDEN)
