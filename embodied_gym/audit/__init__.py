"""Shortcut auditor: blind baselines any benchmark author can run on a suite (``egym audit``).

A benchmark's numbers mean something only if a model has to look to score. The audit attacks a
suite without pixels -- text and option-structure models fitted on another split, nearest
neighbours on option strings, structure heuristics, query-position priors, fixed points and
boxes, and (closed loop) fixed non-visual policies -- and checks that every asked-about object
was actually shown. Each figure is reported per skill / category against chance and a limit;
the suite fails when any figure exceeds its limit.

Checks live in a registry per suite family (:mod:`.registry`); BEAR's are in
:mod:`.bear_choice` and :mod:`.bear_grounding`. Add a family's check with
:func:`~.registry.register`.
"""

from .core import AuditConfig, AuditFailed, audit, audit_ref, format_report, other_split
from .registry import CHECKS, AuditContext, Check, Figure, family_of, register

__all__ = ["CHECKS", "AuditConfig", "AuditContext", "AuditFailed", "Check", "Figure", "audit", "audit_ref",
           "family_of", "format_report", "other_split", "register"]
