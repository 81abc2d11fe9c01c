"""The feed clock: the moment of each change, never going back (feeds' Last-Modified)."""

from __future__ import annotations

import time

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from blog_shared import publishing


def test_a_writer_that_began_earlier_and_commits_later_does_not_set_the_clock_back(database_url):
    engine = create_engine(database_url)
    with Session(engine) as slow, Session(engine) as quick:
        slow.execute(text("SELECT 1"))  # its transaction (and now()) begins here
        time.sleep(0.2)
        publishing.note_change(quick)
        quick.commit()
        seen = publishing.feed_clock(quick)
        quick.commit()
        publishing.note_change(slow)  # noted later, though begun earlier
        slow.commit()
        assert publishing.feed_clock(slow) >= seen
        slow.commit()
        with engine.begin() as conn:  # a clock ahead is never moved back by a later change
            conn.execute(text("UPDATE feed_clock SET changed_at = now() + interval '1 hour'"))
        ahead = publishing.feed_clock(quick)
        quick.commit()
        publishing.note_change(quick)
        quick.commit()
        assert publishing.feed_clock(quick) == ahead
    engine.dispose()


def test_the_clock_reads_without_its_row(database_url):
    engine = create_engine(database_url)
    with Session(engine) as db:
        db.execute(text("DELETE FROM feed_clock"))
        assert publishing.feed_clock(db).year == 1970
        publishing.note_change(db)
        assert publishing.feed_clock(db).year >= 2026
        db.rollback()
    engine.dispose()
