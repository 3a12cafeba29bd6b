"""Per-target delivery progress (monitor/storage/progress.py): the one reader and writer of
the ``alerts.delivered`` column.

The fault this guards against is the kind reported in public trackers, where progress
made before a failure was lost or misread and a retry resent what had arrived (or never
sent what had not):
- dotCMS/core#12777: one of several endpoints fails, the retry resends to all of them;
- NousResearch/hermes-agent#114396 (and PR #52095): chunk 1 of a split message lands,
  chunk 2 fails, the retry sends chunk 1 again;
- anolilab/lunora PR #715: a push to two groups half succeeds, the retry re-posts the
  group that already had it.
Each is rebuilt below (``SCENARIOS``) as a column value of our own and what a retry
must then send. Target keys are made up hex strings like ``delivery.outbox.target_key``'s.
"""

from __future__ import annotations

import pytest

from monitor.storage import DeliveryProgress, Mark

A, B, C = "0a1b2c3d4e5f", "aaaabbbbcccc", "123456789abc"


# ---- parse: (column text, the marks read) -------------------------------------------
PARSE_CASES = [
    ("", ()),
    ("   ", ()),
    (None, ()),
    (A, (Mark(A),)),
    (f"{A} {B}", (Mark(A), Mark(B))),
    (f"  {A}\t{B}\n", (Mark(A), Mark(B))),  # any whitespace separates, none is kept
    (f"{A}#0", (Mark(A, 0),)),
    (f"{A}#0 {A}#1 {A}#12", (Mark(A, 0), Mark(A, 1), Mark(A, 12))),
    (f"dead:{A}", (Mark(A, refused=True),)),
    (f"{A} dead:{B} {C}#3", (Mark(A), Mark(B, refused=True), Mark(C, 3))),
    (f"{A} {A}", (Mark(A),)),  # appended twice (a resend after a kill): counts once
    (f"{A}#1 {A}#0", (Mark(A, 1), Mark(A, 0))),  # recorded order is kept
    (f"dead:{A} {A}", (Mark(A, refused=True), Mark(A))),  # requeued, then got it
]


@pytest.mark.parametrize("text, marks", PARSE_CASES)
def test_parse(text, marks):
    assert DeliveryProgress.parse(text).marks == marks


# Tokens that name no target in the grammar: skipped, as the old string match never
# matched them to a target either.
MALFORMED = [
    "#0",  # no key
    "dead:",  # refused, no key
    f"{A}#",  # part without index
    f"{A}#x",  # part index not a number
    f"{A}#-1",  # negative part
    f"{A}#١",  # Arabic-Indic digit: not an index we write
    f"{A}#1#2",  # two part separators
    f"dead:{A}#1",  # a refusal of a part is never written
    f"dead:dead:{A}",  # key that itself starts with dead:
]


@pytest.mark.parametrize("token", MALFORMED)
def test_tokens_outside_the_grammar_are_skipped(token):
    assert Mark.parse(token) is None
    assert DeliveryProgress.parse(f"{A} {token} {B}").marks == (Mark(A), Mark(B))


# ---- format: the one writer; round trips -------------------------------------------
FORMAT_CASES = [
    ((), ""),
    ((Mark(A),), A),
    ((Mark(A, 0), Mark(A, 1)), f"{A}#0 {A}#1"),
    ((Mark(A, refused=True), Mark(B)), f"dead:{A} {B}"),
    ((Mark(A, 2), Mark(B, refused=True), Mark(C)), f"{A}#2 dead:{B} {C}"),
]


@pytest.mark.parametrize("marks, text", FORMAT_CASES)
def test_format_and_round_trip(marks, text):
    progress = DeliveryProgress(marks)
    assert progress.format() == text
    assert DeliveryProgress.parse(text) == progress
    assert " ".join(m.token() for m in marks) == text  # a mark appended alone reads the same


@pytest.mark.parametrize("text", [t for t, _ in PARSE_CASES if t])
def test_parse_format_parse_is_stable(text):
    once = DeliveryProgress.parse(text)
    assert DeliveryProgress.parse(once.format()) == once


@pytest.mark.parametrize(
    "key, part, refused",
    [
        ("", None, False),
        ("a b", None, False),
        ("a\tb", None, False),
        ("ab#1", None, False),
        ("dead:ab", None, False),
        (A, -1, False),
        (A, 0, True),  # a part cannot be refused on its own
    ],
)
def test_marks_the_grammar_cannot_hold_are_refused(key, part, refused):
    with pytest.raises(ValueError):
        Mark(key, part, refused)


# ---- questions the sender asks ----------------------------------------------------
def test_queries():
    p = DeliveryProgress.parse(f"{A} {B}#0 dead:{C}")
    assert p.got(A) and not p.got(B) and not p.got(C)
    assert p.got_part(B, 0) and not p.got_part(B, 1) and not p.got_part(A, 0)
    assert p.refused(C) and not p.refused(A) and not p.refused(B)
    assert p.settled(A) and p.settled(C) and not p.settled(B)
    assert not DeliveryProgress().settled(A)


def test_add_is_idempotent_and_keeps_order():
    p = DeliveryProgress().add(Mark(A, 0)).add(Mark(B, refused=True)).add(Mark(A, 0))
    assert p.format() == f"{A}#0 dead:{B}"


# ---- requeue: refusals go, what targets got stays ---------------------------------
REQUEUE_CASES = [
    ("", ""),
    (f"dead:{A}", ""),
    (f"{A} dead:{B}", A),
    (f"{A}#0 {A}#1 dead:{B} {C}", f"{A}#0 {A}#1 {C}"),
    (f"dead:{A} dead:{B}", ""),
    (f"{A} junk#x dead:{B}", A),  # unreadable tokens are not written back
]


@pytest.mark.parametrize("text, kept", REQUEUE_CASES)
def test_without_refusals(text, kept):
    assert DeliveryProgress.parse(text).without_refusals().format() == kept


# ---- digest groups: a target has the digest only if it had every alert in it -------
COMMON_CASES = [
    ([], ""),
    ([""], ""),
    ([A], A),
    ([f"{A} {B}", f"{B} {A}"], f"{A} {B}"),  # first alert's order
    ([f"{A} {B}", B], B),
    ([A, f"dead:{A}"], ""),  # got one, refused the other: neither settled
    ([f"dead:{A}", f"dead:{A} {B}"], f"dead:{A}"),
    ([f"{A}#0 {A}#1", f"{A}#0"], f"{A}#0"),
    ([f"{A} {B}", f"{A} {B}", ""], ""),  # a new alert joined the group
]


@pytest.mark.parametrize("texts, common", COMMON_CASES)
def test_common(texts, common):
    assert DeliveryProgress.common(DeliveryProgress.parse(t) for t in texts).format() == common


# ---- the public reports, rebuilt -------------------------------------------------
def _to_send(progress: DeliveryProgress, targets: list[str], n_parts: int) -> list[tuple[str, int]]:
    """What `ChannelSender._send_group` sends next, asked the way it asks: (target, part)."""
    out = []
    for t in targets:
        if progress.settled(t):
            continue
        out += [(t, i) for i in range(n_parts) if not (n_parts > 1 and progress.got_part(t, i))]
    return out


SCENARIOS = [
    # dotCMS#12777: three targets, the middle one failed transiently: only it again
    ("one of three endpoints failed", [f"{A} {C}"], [A, B, C], 1, [(B, 0)]),
    # hermes-agent#114396: chunk 0 landed, chunk 1 failed: resume at chunk 1
    ("split message failed midway", [f"{A}#0"], [A], 3, [(A, 1), (A, 2)]),
    # same, with a second chat that took it all and a third that refused for good
    ("split, mixed targets", [f"{A}#0 {A}#1 {B} dead:{C}"], [A, B, C], 3, [(A, 2)]),
    # lunora#715: a digest of two alerts; A took the digest, B took only the first alert's
    # earlier single send: B lacks the digest, A does not
    ("digest half delivered", [f"{A} {B}", f"{A}"], [A, B], 1, [(B, 0)]),
    # nothing recorded yet: everything
    ("fresh", [""], [A, B], 2, [(A, 0), (A, 1), (B, 0), (B, 1)]),
]


@pytest.mark.parametrize("label, columns, targets, n_parts, expected", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_retry_sends_only_what_is_missing(label, columns, targets, n_parts, expected):
    progress = DeliveryProgress.common(DeliveryProgress.parse(c) for c in columns)
    assert _to_send(progress, targets, n_parts) == expected
