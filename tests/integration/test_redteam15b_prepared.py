"""Red team of issue 15 (redteam15b): a short article's head and length reach the store.

On main b423ad6 the story_articles INSERT (storage/stories._INSERT_STORY_ARTICLE, a ``Prepared``
statement of issue 16) named nine columns; revision 0017 added ``head`` and ``words`` and the
caller passed them, but ``Prepared`` binds only the columns it names, so both were dropped and
read back NULL: the head rule of stories15b never ran in the daemon (43 rows of
tests/integration/test_story_summaries.py and test_redteam15_stories.py failed on main). Fixed:
the two columns are named, and ``Prepared.execute`` refuses a column an INSERT does not name
(``conn.execute`` would have stored it). The same kind reported elsewhere: a value silently left
out of an INSERT whose column list is fixed ahead (https://github.com/zzzeek/sqlalchemy/pull/433,
hand-built binding drifting from SQLAlchemy's, cited in tests/integration/test_prepared.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from monitor.storage.prepared import Prepared
from monitor.storage.schema import stories, story_articles
from tests.support.story_helpers import put_story_article

pytestmark = pytest.mark.integration

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
FIXTURE = Path(__file__).parent.parent / "fixtures" / "redteam15b" / "short_heads.jsonl"


@pytest.mark.parametrize("source", ["summary", "page"])
def test_a_short_articles_head_and_length_are_stored(store, source):
    """A feed summary's word count is stored (it is compared by its head); a page's is not."""
    art = {**json.loads(FIXTURE.read_text(encoding="utf-8").splitlines()[0]), "text_source": source}
    put_story_article(store, art, 0, T0)
    with store.tx() as conn:
        head, words = conn.execute(select(story_articles.c.head, story_articles.c.words)).one()
    assert words == (len(art["content"].split()) if source == "summary" else None)
    assert head is not None and json.loads(head)


def test_an_insert_given_a_column_it_does_not_name_is_refused(store):
    stmt = Prepared(insert(stories), ("title", "first_seen", "last_seen", "n_articles"))
    row = dict(title="t", first_seen=T0, last_seen=T0, n_articles=1, profile="{}")
    with pytest.raises(KeyError, match="profile"), store.tx() as conn:
        stmt.execute(conn, row)
