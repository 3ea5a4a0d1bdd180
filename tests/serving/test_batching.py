"""Waiting requests answered together in one pass: each still gets its own rows, warnings and
errors, and the same numbers as on its own."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import gradwise
import gradwise.predict
from gradwise.serving.predictor import Predictor, _Job


@pytest.fixture(scope="module")
def predictor(table_run: gradwise.Run) -> Predictor:
    return Predictor(table_run.path)


def counting_passes(monkeypatch) -> list[int]:
    passes: list[int] = []
    original = gradwise.predict.predictions_frame

    def counted(run, inputs):
        passes.append(len(inputs))
        return original(run, inputs)

    monkeypatch.setattr(gradwise.predict, "predictions_frame", counted)
    return passes


def test_clean_requests_share_one_pass_and_keep_their_own_rows(predictor, new_rows, monkeypatch):
    chunks = [new_rows.iloc[a:b].reset_index(drop=True) for a, b in [(0, 3), (3, 4), (4, 9)]]
    alone = [predictor._answer(chunk) for chunk in chunks]
    passes = counting_passes(monkeypatch)
    jobs = [_Job(chunk) for chunk in chunks]
    predictor._answer_batch(jobs)
    assert passes == [9]
    for job, expected in zip(jobs, alone, strict=True):
        assert job.answer["predictions"] == expected["predictions"]
        np.testing.assert_allclose(
            job.answer["probabilities"], expected["probabilities"], rtol=0, atol=1e-6
        )


def test_a_batch_with_a_problem_is_answered_request_by_request(predictor, new_rows, monkeypatch):
    good = new_rows.iloc[0:3].reset_index(drop=True)
    imputed = new_rows.iloc[3:5].reset_index(drop=True)
    imputed.loc[0, "x2"] = np.nan
    unseen = new_rows.iloc[5:6].reset_index(drop=True)
    unseen["color"] = "purple"
    passes = counting_passes(monkeypatch)
    jobs = [_Job(good), _Job(imputed), _Job(unseen)]
    predictor._answer_batch(jobs)
    assert passes == [6, 3, 2, 1]  # the batch, then each request on its own
    assert jobs[0].answer["warnings"] == []
    assert len(jobs[1].answer["warnings"]) == 1 and "x2" in jobs[1].answer["warnings"][0]
    (unknown,) = jobs[2].answer["warnings"]  # a new category: unknown, said, still answered
    assert "purple (1 row)" in unknown.replace("'", "")
    assert jobs[0].answer == predictor._answer(good)


def test_concurrent_callers_are_all_answered(predictor, new_rows):
    chunks = [new_rows.iloc[i : i + 2].reset_index(drop=True) for i in range(12)]
    expected = [predictor._answer(chunk)["predictions"] for chunk in chunks]
    answers: list = [None] * len(chunks)

    def call(i: int) -> None:
        answers[i] = predictor.predict(chunks[i])["predictions"]

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(chunks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert answers == expected
    assert not predictor.queue


def test_a_pass_takes_the_oldest_requests_up_to_the_row_limit(predictor, new_rows, monkeypatch):
    monkeypatch.setattr(predictor, "max_batch_rows", 4)
    jobs = [_Job(new_rows.iloc[:n]) for n in (3, 2, 1, 5)]
    predictor.queue.extend(jobs)
    assert predictor._take() == jobs[:1]  # 3 + 2 > 4
    assert predictor._take() == jobs[1:3]
    assert predictor._take() == jobs[3:]  # alone, even over the limit
    assert predictor._take() == []
