import pytest

from arbiter.catalog.embedded import known_accelerators
from arbiter.catalog.names import canonical_accelerator, resolve_accelerator, resolve_provider
from arbiter.domain.errors import UnknownNameError

KNOWN = known_accelerators()


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("H100", "H100-SXM"),
        ("h100", "H100-SXM"),
        ("H100 (A3 Mega)", "H100-SXM"),
        ("A100", "A100-SXM-40GB"),
        ("A100-80GB", "A100-SXM-80GB"),
        ("A100-80GB-PCIe", "A100-PCIe-80GB"),
        ("Trainium", "Trainium1"),
        ("trainium2", "Trainium2"),
        ("tpu-v6e-8", "TPU-v6e"),
        ("TPU7x (Ironwood)", "TPU7x"),
        ("MI300X", "MI300X"),
        ("gaudi3", "Gaudi3"),
    ],
)
def test_aliases_map_to_one_canonical_name(alias, canonical):
    assert canonical_accelerator(alias, KNOWN) == canonical


def test_every_alias_target_is_in_the_accelerator_table():
    from arbiter.catalog.names import ACCELERATOR_ALIASES

    missing = {v for v in ACCELERATOR_ALIASES.values() if v not in KNOWN}
    assert missing == set()


def test_unknown_accelerator_suggests():
    with pytest.raises(UnknownNameError) as info:
        resolve_accelerator("MI300", KNOWN)
    assert "MI300X" in info.value.suggestions


def test_unknown_provider_suggests():
    with pytest.raises(UnknownNameError) as info:
        resolve_provider("awz")
    assert info.value.suggestions[0] == "aws"
    assert resolve_provider("GCP") == "gcp"
