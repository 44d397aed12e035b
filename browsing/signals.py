"""Signals of the behaviour log, sent after the transaction commits.

``events_recorded(user_id)``: a member's behaviour events were written (a view, a
favourite, a cart change, a batch from the API). Receivers (membership's profile
update) should only enqueue a task, coalesced per member.
"""

from django.dispatch import Signal

events_recorded = Signal()
