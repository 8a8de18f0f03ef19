"""Any training settings a file can hold are either read or refused with messages naming
their ``training.`` key: never another exception (OverflowError, ValueError, TypeError...)."""

import math

from fuzzing import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.training import ConfigError, TrainingConfig
from studio.training.config import limits
from studio.training.settings_fields import specs

# Every declared key, so a setting added later is fuzzed too.
SECTIONS = {s.name: tuple(f.name for f in specs(s.section)) for s in specs(TrainingConfig) if s.kind == "section"}
TOP = tuple(s.name for s in specs(TrainingConfig) if s.kind != "section")

huge_ints = st.sampled_from([2**31, 2**31 - 1, 2**63, 2**64, 2**70, -(2**63) - 1, 10**400, -(10**400)])
odd_floats = st.sampled_from([math.nan, math.inf, -math.inf, 1e300, -1e300, 5e-324, 1e-300, -0.0, 1e16])
leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), huge_ints, st.floats(), odd_floats,
    st.text(max_size=12), st.sampled_from(["adam", "sgd", "cpu", "step", "\x00", "../../x", "\ud800", ""]),
)
junk = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)), max_leaves=12)


def section(keys):
    known = st.dictionaries(st.sampled_from(keys), st.one_of(leaves, junk), max_size=len(keys))
    return st.one_of(known, junk)


settings_dicts = st.fixed_dictionaries({}, optional={
    **{key: st.one_of(leaves, junk) for key in TOP},
    **{name: section(keys) for name, keys in SECTIONS.items()},
    "unknown": junk,
})


def check(data):
    try:
        cfg = TrainingConfig.from_dict(data)
    except ConfigError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.startswith(("training.", "training:")), problem
            assert len(problem) < 1000, problem
        return
    # what is read is within its limits and writes back to the same settings
    assert cfg.validate() == []
    assert TrainingConfig.from_dict(cfg.to_dict()) == cfg


@settings(max_examples=examples(150), deadline=None)
@given(settings_dicts)
def test_any_settings_are_read_or_refused_by_key(data):
    check(data)


@settings(max_examples=examples(60), deadline=None)
@given(junk)
def test_settings_that_are_not_an_object_are_refused(data):
    check(data)


@settings(max_examples=examples(100), deadline=None)
@given(st.sampled_from(sorted(limits())), st.one_of(huge_ints, odd_floats, st.integers(), st.floats()))
def test_every_number_setting_takes_only_values_within_its_limit(key, value):
    *sections, name = key.split(".")
    data = {name: value}
    for sec in reversed(sections):
        data = {sec: data}
    if name == "betas":
        data = {"optimizer": {"betas": [0.9, value]}}
    lim = limits()[key]
    try:
        TrainingConfig.from_dict(data)
    except ConfigError as exc:
        assert any(p.startswith(f"training.{key}") for p in exc.problems), exc.problems
        return
    assert lim.allows(value) and (not isinstance(value, float) or math.isfinite(value))
