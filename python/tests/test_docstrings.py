"""Every public function, class and method of the package has a docstring."""

import inspect
import re

import mrsolve


def public_members():
    for name in mrsolve.__all__:
        if name.startswith("__"):
            continue
        obj = getattr(mrsolve, name)
        if isinstance(obj, (tuple, list, str)):
            continue  # constants (SOLVERS)
        yield f"mrsolve.{name}", obj
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") and attr != "__init__":
                    continue
                if callable(member) or isinstance(member, property) or type(member).__name__ == "property":
                    yield f"mrsolve.{name}.{attr}", member


# pybind11 starts every docstring with the signature ("name(self: ..., t: object) -> object"), so a native
# function without a docstring still has a non-empty __doc__: the signature lines do not count.
SIGNATURE = re.compile(r"^\s*(\d+\. )?\w+\(.*\)( -> .*)?\s*$|^\s*Overloaded function\.\s*$")


def documentation(obj):
    doc = obj.__doc__
    if isinstance(obj, property) and not doc and obj.fget is not None:
        doc = obj.fget.__doc__
    lines = (doc or "").splitlines()
    return "\n".join(line for line in lines if not SIGNATURE.match(line)).strip()


def missing_docstrings(members):
    return [qualified for qualified, obj in members if not documentation(obj)]


def test_every_public_function_has_a_docstring():
    members = list(public_members())
    assert len(members) > 30  # the walk sees the classes' members, not only the top level
    assert missing_docstrings(members) == []


def test_the_check_can_fail():
    def undocumented():
        pass

    class Native:  # what pybind11 gives a function bound without a docstring
        __doc__ = "alpha(self: mrsolve._core.IRSDETable, t: object) -> object\n"
    assert missing_docstrings([("undocumented", undocumented), ("native", Native)]) == ["undocumented", "native"]


def test_every_name_in_all_exists():
    for name in mrsolve.__all__:
        assert hasattr(mrsolve, name), name
