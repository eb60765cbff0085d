"""The local design assistant on the design-chat corpus (`tests/corpus/`), field by field.

The rules are tuned on `briefs_train.json` and the retired held-out splits
`briefs_heldout.json` and `briefs_heldout2.json` (see `tests/corpus/README.md`): the
training splits of `corpus_eval.TRAINING`, which print their failures. A split that is not
in it is blind: only its per-field numbers are printed. Each field has a floor: what the
assistant reached when it was last measured, as a count of turns right, so a change that
loses any is a failing test.

Print the table (every split) and the training splits' failures with:

    pytest -s -p no:cacheprovider tests/test_briefs_corpus.py -k report
"""

from __future__ import annotations

import random

import pytest

from common.providers.local.assistant import LocalAssistant
from common.studio.briefs import Brief
from tests import corpus_eval
from tests.corpus_eval import SPLITS, Score
from tests.test_chat_local import CONVERSATIONS, REQUESTS, say

# Turns right per field, as last measured (see the module docstring for the command).
FLOORS: dict[str, dict[str, int]] = {
    "train": {
        "product": 165,
        "color": 153,
        "texts": 160,
        "text_color": 65,
        "subject": 161,
        "text_area": 45,
        "image_area": 39,
        "text_position": 19,
        "image_size": 20,
        "placement": 75,
        "ask": 17,
        "fully right": 174,
    },
    # Retired to training after its second measurement (52 of 74 turns fully right).
    "heldout": {
        "product": 72,
        "color": 61,
        "texts": 68,
        "text_color": 18,
        "subject": 69,
        "text_area": 9,
        "image_area": 21,
        "text_position": 4,
        "image_size": 11,
        "placement": 28,
        "ask": 4,
        "fully right": 73,
    },
    # Blind until it was measured twice, a baseline at 74d5136 (60 of 82 turns fully right)
    # and at the end of the round at 7094e33 (65 of 82), then retired to training; tuned on
    # in the assist3 round (81 of 82).
    "heldout2": {
        "product": 78,
        "color": 78,
        "texts": 64,
        "text_color": 37,
        "subject": 71,
        "text_area": 14,
        "image_area": 17,
        "text_position": 9,
        "image_size": 22,
        "placement": 37,
        "ask": 7,
        "fully right": 81,
    },
    # The third writer's corpus, split in two (tests/corpus/README.md): train3 is tuned on,
    # heldout3 is blind. Both as measured at c72cc56, before any rule saw either; train3
    # raised to what the assist3 round reached on it (118 of 118).
    "train3": {
        "product": 108,
        "color": 103,
        "texts": 103,
        "text_color": 30,
        "subject": 101,
        "text_area": 15,
        "image_area": 24,
        "text_position": 4,
        "image_size": 16,
        "placement": 36,
        "ask": 11,
        "fully right": 118,
    },
    # Blind: measured twice, the baseline at c72cc56 (109 of 126 fully right) and these, at
    # the end of the round at e1147c5 (116 of 126, over the bar of 90%: 114).
    "heldout3": {
        "product": 121,
        "color": 115,
        "texts": 115,
        "text_color": 22,
        "subject": 111,
        "text_area": 25,
        "image_area": 24,
        "text_position": 8,
        "image_size": 17,
        "placement": 45,
        "ask": 7,
        "fully right": 116,
    },
}


_scores: dict[str, Score] = {}


def scored(split: str) -> Score:
    """The split's score, played once per test session."""
    if split not in _scores:
        _scores[split] = corpus_eval.evaluate(LocalAssistant, split)
    return _scores[split]


def test_report(database_url: str) -> None:
    scores = {split: scored(split) for split in SPLITS}
    print("\n" + corpus_eval.table(scores))
    for split in corpus_eval.TRAINING:
        print(f"\n{split} failures:\n" + ("\n".join(scores[split].failures) or "none"))
    assert {split: scores[split].turns for split in SPLITS} == {
        "train": 174,
        "heldout": 74,
        "heldout2": 82,
        "train3": 118,
        "heldout3": 126,
    }


@pytest.mark.parametrize("split", SPLITS)
def test_no_field_falls_below_its_floor(database_url: str, split: str) -> None:
    score = scored(split)
    reached = {**score.right, "fully right": score.fully_right}
    below = {
        name: f"{reached.get(name, 0)} < {floor}"
        for name, floor in FLOORS[split].items()
        if reached.get(name, 0) < floor
    }
    assert below == {}


@pytest.mark.parametrize("split", SPLITS)
def test_no_reply_in_the_corpus_says_a_sentence_twice(database_url: str, split: str) -> None:
    assert scored(split).repeated_sentences == 0


def test_no_reply_to_the_older_corpus_says_a_sentence_twice(database_url: str) -> None:
    replies = [say(message, Brief()).reply for message, _ in REQUESTS]
    for conversation in CONVERSATIONS:
        brief, focus = Brief(), None
        for message, _ in conversation:
            turn = say(message, brief, focus)
            replies.append(turn.reply)
            brief, focus = turn.brief, turn.focus
    repeated = [
        r for r in replies if len(corpus_eval.sentences(r)) != len(set(corpus_eval.sentences(r)))
    ]
    assert repeated == []


def test_any_cut_or_shuffle_of_the_train_messages_gets_a_reply(database_url: str) -> None:
    """Messages as people mangle them (shouted, cut in half, shuffled, glued to another),
    read against briefs made earlier in the run: a reply every time, never an error."""
    rng = random.Random(17)
    said = [turn["say"] for case in corpus_eval.cases("train") for turn in case["turns"]]
    assistant = LocalAssistant()
    briefs = [Brief()]
    for message in rng.sample(said, 80):
        words = message.split()
        for variant in (
            message.upper(),
            " ".join(words[: len(words) // 2]),
            " ".join(rng.sample(words, len(words))),
            f"{message} {rng.choice(said)}"[:500],
        ):
            turn = assistant.respond([], variant, rng.choice(briefs), rng.choice(FOCUSES))
            assert turn.reply
            briefs.append(turn.brief)
    # Found this way: a second subject joined by "and" to artwork made by an earlier message.
    drawn = assistant.respond([], "white tee with a taco", Brief(), None)
    joined = assistant.respond([], "taco and a burrito high-fiving", drawn.brief, drawn.focus)
    assert joined.brief.image is not None and "burrito" in joined.brief.image.prompt


FOCUSES = (None, "text", "image")
