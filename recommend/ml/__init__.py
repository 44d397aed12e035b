"""The recommender's numerical core: pure numpy / scipy / scikit-learn / implicit, no Django.

``data`` turns interaction arrays into weighted sparse matrices and the temporal
leave-last-out split, ``algorithms`` holds the candidate models (popularity,
implicit ALS, item-kNN cosine and BM25, RP3beta, EASE, a sequential transition
model), ``metrics`` the full-ranking HR / NDCG / recall / coverage, ``pipeline``
the hyperparameter search, the validated hybrid and the refit, ``content`` and
``cooc`` the content similarity and the bought-together rules.
"""
