"""Bad and hostile input: refused with a reason, or processed without losing anything else."""

from __future__ import annotations

import string

from copydesk import Article, Pipeline
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

NEWSY = st.text(
    alphabet=st.sampled_from(
        [*string.ascii_letters, *string.digits, *" \n\n\t.,;:!?'\"-—–$€£%()/",
         "“", "”", "‘", "’", "\u00a0", "\u200b", "Ç", "ı", "é", "\r"]
    ),
    min_size=1,
    max_size=400,
).filter(lambda s: s.strip())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=NEWSY)
def test_any_text_completes_with_consistent_offsets(pipeline: Pipeline, text: str) -> None:
    doc = pipeline.process(Article(text=text))
    assert doc.status == "done"
    assert doc.offset_problems() == []


def test_a_hostile_article_does_not_take_its_batch_neighbours_down(pipeline: Pipeline) -> None:
    hostile = Article(text="(" * 5000 + '"' * 3000 + "1" * 5000 + "\u202e" * 100 + ")" * 5000)
    neighbours = [Article(text="Putin met Zelenskyy in Istanbul on Monday."),
                  Article(text="The talks failed, officials said.")]
    docs = pipeline.process_many([neighbours[0], hostile, neighbours[1]])
    assert [d.status for d in docs] == ["done", "done", "done"]
    assert any(e.canonical for e in docs[0].entities)
    assert all(d.offset_problems() == [] for d in docs)


def test_markup_in_plain_text_is_kept_as_text(pipeline: Pipeline) -> None:
    doc = pipeline.process(Article(text='Officials said <script>alert(1)</script> was found.'))
    assert "<script>alert(1)</script>" in doc.text
