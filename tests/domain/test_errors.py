from arbiter.domain.errors import (
    ArbiterError,
    FeedError,
    InfeasibleError,
    InputError,
    StoreError,
    UnknownNameError,
    suggest,
)


def test_exit_codes_are_distinct_per_kind():
    codes = {cls.exit_code for cls in (ArbiterError, InputError, InfeasibleError, StoreError)}
    assert len(codes) == 4
    assert InputError.exit_code == 2
    assert InfeasibleError.exit_code == 3


def test_input_error_names_file_field_and_valid_values():
    err = InputError(
        "must be >= 0", file="fleet.yaml", field="workloads[0].tokens", valid="a number >= 0"
    )
    text = str(err)
    assert "fleet.yaml" in text and "workloads[0].tokens" in text and "a number >= 0" in text
    assert isinstance(err, ValueError)


def test_unknown_name_suggests_close_matches():
    err = UnknownNameError("accelerator", "H10", ["H100-SXM", "H200-SXM", "MI300X"])
    assert err.suggestions[0] == "H100-SXM"
    assert "Did you mean 'H100-SXM'" in str(err)


def test_suggest_is_case_insensitive_and_finds_substrings():
    assert suggest("mi300", ["MI300X", "MI325X", "TPU-v5e"])[0] == "MI300X"
    assert suggest("zzzz", ["MI300X"]) == []


def test_feed_error_names_record_and_field():
    err = FeedError("not a number", file="prices.json", record="Items[5]", field="retailPrice")
    assert "prices.json" in str(err) and "Items[5].retailPrice" in str(err)
    assert err.exit_code == 2


def test_message_reads_as_one_sentence_sequence():
    err = UnknownNameError("accelerator", "H10", ["H100-SXM"])
    assert "?. " not in str(err)
    assert str(err).endswith("Valid: H100-SXM.")
