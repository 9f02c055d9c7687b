"""The SMS reply grammar, on the forms people really type."""

import pytest

from definitions.replies import Reply, ReplyKeyword, parse_reply


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("OUI 4821", Reply(keyword=ReplyKeyword.YES, code="4821")),
        ("oui 4821", Reply(keyword=ReplyKeyword.YES, code="4821")),
        ("  Oui,4821 ! ", Reply(keyword=ReplyKeyword.YES, code="4821")),
        ("OUI4821", Reply(keyword=ReplyKeyword.YES, code="4821")),
        ("non 4821.", Reply(keyword=ReplyKeyword.NO, code="4821")),
        ("Ok 5532", Reply(keyword=ReplyKeyword.MOBILISED, code="5532")),
        ("aide", Reply(keyword=ReplyKeyword.HELP)),
        ("Aidé 5532", Reply(keyword=ReplyKeyword.HELP, code="5532")),
        ("FAIT 1234", Reply(keyword=ReplyKeyword.DONE, code="1234")),
        ("RENFORT 6610 OUI", Reply(keyword=ReplyKeyword.REINFORCEMENT, code="6610", accepts=True)),
        ("renfort non 6610", Reply(keyword=ReplyKeyword.REINFORCEMENT, code="6610", accepts=False)),
        ("Renfort oui", Reply(keyword=ReplyKeyword.REINFORCEMENT, accepts=True)),
        ("STOP", Reply(keyword=ReplyKeyword.STOP)),
        ("Arrêt", Reply(keyword=ReplyKeyword.STOP)),
        ("arret svp", Reply(keyword=ReplyKeyword.STOP)),
    ],
)
def test_understood_replies(text: str, expected: Reply) -> None:
    assert parse_reply(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Bonjour, qui est-ce ?",
        "OUI 48",
        "OUI 48211",
        "OUI 4821 4822",
        "oui je viens",
        "RENFORT 6610",
        "RENFORT 6610 OUI NON",
        "peut-être 4821",
        "OUI 4821 " + "x" * 400,
        "😀 4821",
    ],
)
def test_anything_else_is_not_understood(text: str) -> None:
    assert parse_reply(text) is None
