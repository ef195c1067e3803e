"""Plugin manifests are validated, and dependency order is derived from them."""
import types

import pytest

from core.modules.registry import DependencyError, dependency_order
from core.plugins import Manifest, ManifestError, PluginInfo


def manifest(**changes) -> Manifest:
    fields = dict(name="sales", title="Sales", version="1.2.0", summary="Sell things.")
    fields.update(changes)
    return Manifest(**fields)


def plugins(*manifests: Manifest) -> dict[str, PluginInfo]:
    return {m.name: PluginInfo(m, types.ModuleType(m.name), "tests") for m in manifests}


def test_a_good_manifest_validates():
    manifest(depends=("accounting>=1.0,<2",), optional_depends=("crm",), requires_core=">=0.1,<1").validate()


@pytest.mark.parametrize("changes, culprit", [
    ({"name": "Sales Module"}, "name"),
    ({"name": "core"}, "reserved"),
    ({"title": ""}, "title"),
    ({"summary": " "}, "summary"),
    ({"version": "one"}, "version"),
    ({"requires_core": "newest"}, "requires_core"),
    ({"depends": "accounting"}, "depends"),
    ({"depends": ("accounting>>1",)}, "depends"),
    ({"depends": ("sales",)}, "itself"),
])
def test_a_bad_manifest_names_the_field(changes, culprit):
    with pytest.raises(ManifestError, match=culprit):
        manifest(**changes).validate()


def test_dependencies_come_first():
    found = plugins(
        manifest(name="cpq", depends=("crm", "accounting>=1")),
        manifest(name="crm"),
        manifest(name="accounting", version="1.5"),
    )
    order = dependency_order(["cpq"], found)
    assert order.index("crm") < order.index("cpq") and order.index("accounting") < order.index("cpq")


def test_a_missing_dependency_names_who_needs_it():
    found = plugins(manifest(name="cpq", depends=("crm",)))
    with pytest.raises(DependencyError, match=r"'crm' is not available \(required by cpq\)"):
        dependency_order(["cpq"], found)


def test_a_cycle_is_reported_with_its_path():
    found = plugins(manifest(name="aa", depends=("bb",)), manifest(name="bb", depends=("aa",)))
    with pytest.raises(DependencyError, match="aa -> bb -> aa"):
        dependency_order(["aa"], found)


def test_a_version_outside_the_range_is_reported():
    found = plugins(manifest(name="cpq", depends=("crm>=2",)), manifest(name="crm", version="1.0"))
    with pytest.raises(DependencyError, match=r"requires crm>=2, but crm 1.0 is available"):
        dependency_order(["cpq"], found)


def test_an_incompatible_core_is_reported():
    found = plugins(manifest(name="crm", requires_core=">=9"))
    with pytest.raises(DependencyError, match="requires core >=9"):
        dependency_order(["crm"], found)
