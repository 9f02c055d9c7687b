"""Bad input at the doors, generated: whatever a phone or a directory file holds, the
SMS reply parser and the CSV importer answer with a reply, a refusal or a list of
problems, never with a crash; and what they accept, they read as meant."""

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from definitions.answer_links import (
    TOKEN_MAX_LENGTH,
    AnswerLinkClaim,
    ForgedLinkError,
    read_link,
)
from definitions.directory import Directory
from definitions.directory_csv import (
    MAX_FILE_BYTES,
    DirectoryImportError,
    read_directory,
    write_directory,
)
from definitions.replies import REPLY_MAX_LENGTH, ReplyKeyword, parse_reply
from definitions.territory import load_territory
from tests.test_directory import CONTACTS, ORGANISATIONS

KEYWORDS_WITH_CODE = [k for k in ReplyKeyword if k not in (ReplyKeyword.STOP,)]
SEPARATORS = st.text(alphabet=" ,.;:!?-_/\t\n", min_size=0, max_size=3)
CODES = st.from_regex(r"\A[0-9]{4}\Z")
NAMES = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\u0085"
    ),
    min_size=1,
    max_size=60,
).filter(lambda name: name.strip() == name and name.strip() != "")


def _typed(word: str, lowered: list[bool]) -> str:
    """The word as typed on a phone: some letters in lower case."""
    return "".join(
        char.lower() if lowered[index % len(lowered)] else char for index, char in enumerate(word)
    )


@given(st.text(max_size=REPLY_MAX_LENGTH + 20))
def test_any_text_is_a_reply_or_not_understood(text: str) -> None:
    reply = parse_reply(text)
    if reply is not None:
        assert reply.code is None or (len(reply.code) == 4 and reply.code.isdigit())
        assert (reply.accepts is not None) == (reply.keyword is ReplyKeyword.REINFORCEMENT)


@given(
    st.sampled_from([k for k in KEYWORDS_WITH_CODE if k is not ReplyKeyword.REINFORCEMENT]),
    CODES,
    SEPARATORS,
    SEPARATORS,
    st.lists(st.booleans(), min_size=1, max_size=4),
)
def test_keyword_and_code_are_read_however_typed(
    keyword: ReplyKeyword, code: str, before: str, between: str, lowered: list[bool]
) -> None:
    reply = parse_reply(f"{before}{_typed(keyword.value, lowered)}{between}{code}{before}")
    assert reply is not None
    assert (reply.keyword, reply.code) == (keyword, code)


@given(CODES, st.booleans(), SEPARATORS, st.lists(st.booleans(), min_size=1, max_size=3))
def test_reinforcement_answer_is_read_in_either_order(
    code: str, accepts: bool, separator: str, lowered: list[bool]
) -> None:
    answer = _typed("OUI" if accepts else "NON", lowered)
    for text in (f"RENFORT {code}{separator} {answer}", f"renfort {answer} {code}"):
        reply = parse_reply(text)
        assert reply is not None
        assert (reply.keyword, reply.code, reply.accepts) == (
            ReplyKeyword.REINFORCEMENT,
            code,
            accepts,
        )


@given(st.sampled_from(list(ReplyKeyword)), CODES)
def test_a_reply_padded_past_the_limit_is_refused(keyword: ReplyKeyword, code: str) -> None:
    assert parse_reply(f"{keyword.value} {code}" + " " * REPLY_MAX_LENGTH) is None


@given(st.text(max_size=TOKEN_MAX_LENGTH + 10), st.sampled_from(["", ".", "é"]))
def test_any_link_token_is_refused_as_forged(token: str, glue: str) -> None:
    """A signed link's token as typed or mangled (non-ASCII letters once gave a 500)."""
    try:
        read_link("secret-de-test", token + glue + token, AnswerLinkClaim)
    except ForgedLinkError:
        return
    raise AssertionError("an unsigned token was accepted")


def _read(organisations: bytes, contacts: bytes) -> Directory | DirectoryImportError:
    with tempfile.TemporaryDirectory() as folder:
        orgs, people = Path(folder) / "organisations.csv", Path(folder) / "contacts.csv"
        orgs.write_bytes(organisations)
        people.write_bytes(contacts)
        try:
            return read_directory(orgs, people, load_territory())
        except DirectoryImportError as refused:
            return refused


def _lines(data: bytes) -> int:
    return data.count(b"\n") + 1


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600), st.sampled_from(["organisations", "contacts"]))
def test_any_bytes_in_a_directory_file_give_problems_with_their_line(
    garbage: bytes, broken: str
) -> None:
    files = {"organisations": ORGANISATIONS.encode(), "contacts": CONTACTS.encode()}
    files[broken] = garbage
    outcome = _read(files["organisations"], files["contacts"])
    if isinstance(outcome, DirectoryImportError):
        assert outcome.problems
        for problem in outcome.problems:
            assert 0 <= problem.line <= _lines(files[problem.file.removesuffix(".csv")]) + 1
            assert str(problem)


@settings(max_examples=60)
@given(st.binary(max_size=200), st.integers(min_value=0, max_value=len(ORGANISATIONS)))
def test_bytes_spliced_into_a_good_file_never_crash_the_import(
    garbage: bytes, position: int
) -> None:
    good = ORGANISATIONS.encode()
    outcome = _read(good[:position] + garbage + good[position:], CONTACTS.encode())
    assert isinstance(outcome, Directory | DirectoryImportError)


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(NAMES, min_size=6, max_size=6), st.lists(NAMES, min_size=4, max_size=4))
def test_names_with_quotes_commas_and_accents_survive_export_and_import(
    organisation_names: list[str], contact_names: list[str]
) -> None:
    first = _read(ORGANISATIONS.encode(), CONTACTS.encode())
    assert isinstance(first, Directory)
    renamed = Directory(
        organisations=[
            o.model_copy(update={"name": name})
            for o, name in zip(first.organisations, organisation_names, strict=True)
        ],
        contacts=[
            c.model_copy(update={"name": name})
            for c, name in zip(first.contacts, contact_names, strict=True)
        ],
    )
    with tempfile.TemporaryDirectory() as folder:
        orgs, people = Path(folder) / "organisations.csv", Path(folder) / "contacts.csv"
        write_directory(renamed, orgs, people)
        assert read_directory(orgs, people, load_territory()) == renamed


def test_a_file_past_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "organisations.csv"
    with huge.open("wb") as handle:
        handle.write(ORGANISATIONS.encode())
        handle.truncate(MAX_FILE_BYTES + 1)
    people = tmp_path / "contacts.csv"
    people.write_text(CONTACTS, encoding="utf-8")
    try:
        read_directory(huge, people, load_territory())
    except DirectoryImportError as refused:
        assert "trop gros" in str(refused.problems[0])
    else:
        raise AssertionError("a file past the limit was read")
