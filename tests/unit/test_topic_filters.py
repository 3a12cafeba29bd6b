"""Per-topic filters, the pure part: the language guess on real text. The pipeline runs
with feed and language filters are in tests/integration/test_topic_filters.py.
"""

from __future__ import annotations

from monitor.text.lang import detect_language
from tests.support.corpus_pages import seed_reports


def test_language_guess_on_real_text():
    seed = seed_reports()[0]
    assert detect_language(seed.title + "\n" + "\n".join(seed.body_paragraphs)) == "ar"
    # English: the licence line of the corpus README, a real sentence.
    assert (
        detect_language(
            "Licence: CC BY-NC-SA 4.0, research and testing use; the articles remain their publishers' property."
        )
        == "en"
    )
    assert detect_language("1234 -- 5678") == "und"
