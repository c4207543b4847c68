"""Free text -> one action of :data:`embodied_gym.sims.base.ACTIONS` (a pure function).

:func:`parse_action` reads what a language agent replied and returns the canonical action name,
or ``None`` when the reply does not name exactly one action. It never raises. ``vocabulary``
(default :data:`~embodied_gym.sims.base.ACTIONS`) is the set of actions that count: replaying
recorded EmbRACE-3K episodes passes :data:`~embodied_gym.sims.base.EMBRACE_ACTIONS`, whose extra
names (``JumpForward``, ``LookBack``, ``LookHand``, ``MidwayTarget``) and phrases are recognised
only then, so the default parse is unchanged by them. Rules, first match wins:

1. ``<answer>...</answer>`` tags (case-insensitive): the *last* tagged answer is parsed with
   rules 4-5; if it does not name an action the reply is unparsable (no fall-back to the prose).
2. JSON: the whole reply, or a ``{...}`` object inside it, with an ``"action"`` key (any case)
   whose value is parsed with rules 4-5.
3. ``Action: <name>`` / ``action = <name>`` lines: the last one is parsed with rules 4-5.
4. The whole (stripped) text is an action name or alias, ignoring case, spaces, underscores,
   hyphens and surrounding quotes/punctuation: ``TurnLeft``, ``turn left``, ``TURN_LEFT``,
   ``"move-forward".``, ``pick up``, ``forward``, ``stop``.
5. Prose: the text mentions exactly one distinct action phrase (``... so I will turn left.``).
   Two different actions (``turn left, not right`` is fine: only ``turn left`` is a phrase;
   ``move forward then turn left`` is not) make the reply ambiguous -> ``None``.

Cost: only the last :data:`~embodied_gym.envs.contract.REPLY_CAP` characters are read, and every
rule is one linear scan (no pattern that rescans the rest of the reply from each tag), so a
reply of thousands of unclosed ``<answer>`` tags costs about what an ordinary long reply costs
(``egym bench parse``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection

from ..sims.base import ACTIONS, EMBRACE_ACTIONS
from .contract import REPLY_CAP

_SEP = r"[\s_\-]*"


def _key(text: str) -> str:
    """Canonical comparison key: lower case without separators or surrounding punctuation."""
    text = text.strip().strip("\"'`*.,;:!?()[]{}<> \t\r\n")
    return re.sub(r"[\s_\-]+", "", text.lower())


#: normalised whole-reply alias -> action
ALIASES: dict[str, str] = {_key(a): a for a in EMBRACE_ACTIONS}
ALIASES.update(
    {
        "forward": "MoveForward",
        "ahead": "MoveForward",
        "moveahead": "MoveForward",
        "goforward": "MoveForward",
        "goahead": "MoveForward",
        "backward": "MoveBackward",
        "backwards": "MoveBackward",
        "back": "MoveBackward",
        "moveback": "MoveBackward",
        "gobackward": "MoveBackward",
        "goback": "MoveBackward",
        "left": "TurnLeft",
        "rotateleft": "TurnLeft",
        "right": "TurnRight",
        "rotateright": "TurnRight",
        "up": "LookUp",
        "down": "LookDown",
        "pick": "PickObject",
        "pickup": "PickObject",
        "pickupobject": "PickObject",
        "grab": "PickObject",
        "drop": "DropObject",
        "putdown": "DropObject",
        "place": "DropObject",
        "placeobject": "DropObject",
        "open": "OpenDoor",
        "openthedoor": "OpenDoor",
        "finish": "Finish",
        "stop": "Finish",
        "done": "Finish",
        "jump": "JumpForward",
        "lookbehind": "LookBack",
        "turnaround": "LookBack",
        "lookathand": "LookHand",
        "lookatmyhand": "LookHand",
        "midway": "MidwayTarget",
    }
)

#: phrases recognised inside prose (rule 5), each with its first word: a phrase is searched only
#: when that word occurs in the lower-cased reply (a fast substring test), so a long reply
#: without action verbs costs one ``lower()``, not one regex scan per phrase
_PHRASES: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(rf"\b{p}\b", re.IGNORECASE), action, re.match(r"[a-z]+", p).group(0))
    for p, action in [
        (rf"move{_SEP}forwards?", "MoveForward"),
        (rf"go{_SEP}forwards?", "MoveForward"),
        (rf"move{_SEP}ahead", "MoveForward"),
        (rf"move{_SEP}backwards?", "MoveBackward"),
        (rf"move{_SEP}back", "MoveBackward"),
        (rf"go{_SEP}backwards?", "MoveBackward"),
        (rf"turn{_SEP}left", "TurnLeft"),
        (rf"turn{_SEP}right", "TurnRight"),
        (rf"look{_SEP}up", "LookUp"),
        (rf"look{_SEP}down", "LookDown"),
        (rf"pick{_SEP}(?:up{_SEP})?object", "PickObject"),
        (rf"pick{_SEP}(?:it{_SEP})?up", "PickObject"),
        (rf"drop{_SEP}object", "DropObject"),
        (rf"drop{_SEP}it", "DropObject"),
        (rf"put{_SEP}(?:it{_SEP})?down", "DropObject"),
        (rf"open{_SEP}(?:the{_SEP})?door", "OpenDoor"),
        (r"finish", "Finish"),
        (rf"jump{_SEP}forwards?", "JumpForward"),
        (rf"look{_SEP}back", "LookBack"),
        (rf"look{_SEP}(?:at{_SEP})?(?:my{_SEP}|the{_SEP})?hand", "LookHand"),
        (rf"midway{_SEP}target", "MidwayTarget"),
    ]
]

_TAG = re.compile(r"<(/?)answer>", re.IGNORECASE)
_JSON_OBJ = re.compile(r"\{[^{}]*\}", re.DOTALL)
_ACTION_LINE = re.compile(r"\baction\s*[:=]\s*([^\n]*)", re.IGNORECASE)


def _last_answer(text: str) -> str | None:
    """The content of the last ``<answer>...</answer>`` pair, pairing tags exactly as the regex
    ``<answer>(.*?)</answer>`` does from left to right (each ``<answer>`` closes at the next
    ``</answer>``; tags in between belong to the content), in one linear scan over the tags: the
    regex itself is quadratic on a reply of many unclosed ``<answer>`` tags (each one scans to the
    end). ``None`` without a pair."""
    last = None
    opened: re.Match[str] | None = None
    for tag in _TAG.finditer(text):
        if tag.group(1):  # a closing tag
            if opened is not None:
                last, opened = (opened.end(), tag.start()), None
        elif opened is None:
            opened = tag
    return None if last is None else text[last[0]: last[1]]


def _whole(text: str, vocabulary: Collection[str]) -> str | None:
    action = ALIASES.get(_key(text))
    return action if action in vocabulary else None


def _prose(text: str, vocabulary: Collection[str]) -> str | None:
    low = text.lower()
    found = {action for pattern, action, word in _PHRASES
             if action in vocabulary and word in low and pattern.search(text)}
    return found.pop() if len(found) == 1 else None


def _name(text: str, vocabulary: Collection[str] = ACTIONS) -> str | None:
    """Rules 4-5 on a short span of text."""
    return _whole(text, vocabulary) or _prose(text, vocabulary)


def _json_action(text: str, vocabulary: Collection[str] = ACTIONS) -> tuple[bool, str | None]:
    """(found an ``action`` key, parsed action) from JSON in ``text``."""
    candidates = [text.strip()] + [m.group(0) for m in _JSON_OBJ.finditer(text)][::-1]
    for cand in candidates:
        if not cand.startswith("{"):
            continue
        try:
            data = json.loads(cand)
        except (ValueError, RecursionError):
            continue
        if isinstance(data, dict):
            for k, v in data.items():
                if isinstance(k, str) and k.lower() == "action":
                    return True, _name(v, vocabulary) if isinstance(v, str) else None
    return False, None


def parse_action(text: object, vocabulary: Collection[str] = ACTIONS) -> str | None:
    """The action of ``vocabulary`` named by ``text`` (see the module docstring), or ``None``.
    Never raises."""
    if not isinstance(text, str):
        return None
    text = text[-REPLY_CAP:]  # bounded: the answer is at the end of a reply
    last = _last_answer(text)
    if last is not None:
        found, action = _json_action(last, vocabulary)
        return action if found else _name(last, vocabulary)
    found, action = _json_action(text, vocabulary)
    if found:
        return action
    lines = _ACTION_LINE.findall(text)
    if lines:
        action = _name(lines[-1], vocabulary)
        if action is not None:
            return action
    return _name(text, vocabulary)
