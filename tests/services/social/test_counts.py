"""Mentions counted per window in the database, on both engines: a window holds its end and
not its start; negative ones are counted apart; the scope narrows them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from kefu.db.models import SocialMention
from kefu.domain.social_spikes import WindowCount
from kefu.services.social import counts
from tests.services.social.helpers import NEGATIVE_LOGISTICS, NEUTRAL_QUESTION, NOW, post, send


def test_windows_hold_their_end_and_count_negative_mentions_apart(db: Session) -> None:
    hour = timedelta(hours=1)
    for at, text in (
        (NOW - 2 * hour, NEUTRAL_QUESTION),  # the start of the window before: not in any
        (NOW - hour, NEGATIVE_LOGISTICS[0]),  # the end of the first window
        (NOW - timedelta(minutes=30), NEGATIVE_LOGISTICS[1]),
        (NOW, NEUTRAL_QUESTION),  # the end of the second
        (NOW + timedelta(seconds=1), NEUTRAL_QUESTION),  # after the last edge
    ):
        send(db, post(text, at=at), at=NOW + timedelta(minutes=5))
    edges = [NOW - 2 * hour, NOW - hour, NOW]
    assert counts.per_window(db, edges) == [WindowCount(1, 1), WindowCount(2, 1)]
    logistics = counts.per_window(db, edges, SocialMention.category == "logistics")
    assert logistics == [WindowCount(1, 1), WindowCount(1, 1)]
    by_topic = counts.per_window_by_topic(db, edges)
    assert by_topic["logistics"] == logistics
    assert by_topic["product_info"] == [WindowCount(0, 0), WindowCount(1, 0)]
