"""Reactions to other apps' signals: each only enqueues a Celery task (on commit).

* orders: ``order_completed`` → re-evaluate the tier (upgrade at once) and refresh the
  profile; ``order_refunded`` / ``order_paid`` / ``order_cancelled`` → refresh the
  profile only (a refund never changes a tier by itself).
* browsing: ``member_activity`` → refresh the profile, coalesced.
* accounts (privacy, synchronous by design): the member's tier, history, profile and
  score in their data export; at account deletion the computed data goes.
"""

from django.dispatch import receiver

from accounts.signals import user_data_erase, user_data_export
from browsing.signals import member_activity
from membership import tasks
from orders.signals import order_cancelled, order_completed, order_paid, order_refunded


@receiver(order_completed, dispatch_uid="membership.order_completed")
def on_order_completed(sender, order_id=None, user_id=None, **kwargs) -> None:
    if user_id:
        tasks.evaluate_member_tier.delay(user_id)
        tasks.profile_refresh_soon(user_id)


@receiver(order_refunded, dispatch_uid="membership.order_refunded")
@receiver(order_paid, dispatch_uid="membership.order_paid")
@receiver(order_cancelled, dispatch_uid="membership.order_cancelled")
def on_order_changed(sender, order_id=None, user_id=None, **kwargs) -> None:
    if user_id:
        tasks.profile_refresh_soon(user_id)


@receiver(member_activity, dispatch_uid="membership.member_activity")
def on_member_activity(sender, user_id=None, **kwargs) -> None:
    if user_id:
        tasks.profile_refresh_soon(user_id)


@receiver(user_data_export, dispatch_uid="membership.export_member_data")
def export_member_data(sender, user, **kwargs) -> dict:
    """The member's tier and tier history, profile and loyalty score for their export."""
    from membership.models import MemberProfile, MemberScore, Membership, TierChange

    membership = Membership.objects.select_related("tier").filter(user=user).first()
    profile = MemberProfile.objects.filter(user=user).first()
    score = MemberScore.objects.filter(user=user).first()
    changes = TierChange.objects.filter(user=user).select_related("from_tier", "to_tier")
    return {
        "membership": {
            "tier": membership.tier.code if membership else None,
            "since": membership.since if membership else None,
            "history": [
                {"from": c.from_tier.code if c.from_tier else None, "to": c.to_tier.code,
                 "reason": c.reason, "at": c.created_at}
                for c in changes.order_by("created_at", "pk")
            ],
            "profile": profile.data if profile else None,
            "profile_corrections": profile.overrides if profile else None,
            "score": (
                {"p_return": score.p_return, "expected_orders": score.expected_orders,
                 "expected_spend": score.expected_spend, "as_of": score.as_of}
                if score else None
            ),
        }
    }  # fmt: skip


@receiver(user_data_erase, dispatch_uid="membership.erase_member_data")
def erase_member_data(sender, user, **kwargs) -> None:
    """Account deletion: the computed profile, scores and segment memberships go."""
    from membership.models import MemberProfile, MemberScore, SegmentMembership

    MemberProfile.objects.filter(user=user).delete()
    MemberScore.objects.filter(user=user).delete()
    SegmentMembership.objects.filter(user=user).delete()


# --- the per-request memo (membership.memo): writes that change a member's tier, audience or
# restrictions clear it, so a request sees its own change (bulk writes call memo.forget()).


def _connect_memo() -> None:
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from accounts.models import Profile, Tag
    from membership import memo
    from membership.models import MemberProfile, MemberScore, Membership, Tier

    for model in (Membership, Tier, MemberProfile, MemberScore, Tag):
        post_save.connect(memo.forget, sender=model, dispatch_uid=f"membership.memo.{model}")
        post_delete.connect(memo.forget, sender=model, dispatch_uid=f"membership.memo.d{model}")
    for through in (Tier.exclusive_products.through, Profile.tags.through):
        m2m_changed.connect(memo.forget, sender=through, dispatch_uid=f"membership.memo.{through}")
    # the cached exclusive products (membership.selectors._exclusive_min_rank)
    from membership.selectors import forget_exclusives

    post_save.connect(forget_exclusives, sender=Tier, dispatch_uid="membership.exclusives.s")
    post_delete.connect(forget_exclusives, sender=Tier, dispatch_uid="membership.exclusives.d")
    m2m_changed.connect(
        forget_exclusives,
        sender=Tier.exclusive_products.through,
        dispatch_uid="membership.exclusives.m2m",
    )


_connect_memo()
