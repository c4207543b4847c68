"""Wording of bear-lh-v2: instruction and question templates, split into an in-domain set
(``test``/``val``) and a held-out set used only by ``ood``, so the OOD split also changes the
language, not only categories, textures and houses.

:func:`phrase` picks one template of a kind for the split at random and fills it in.
"""

from __future__ import annotations

import random

#: kind -> (in-domain templates, held-out templates)
TEMPLATES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "bring": (
        ("Pick up the {x} and put it on the {r}.", "Bring the {x} to the {r}.", "Take the {x} and place it on the {r}.",
         "Find the {x} and put it on the {r}."),
        ("Move the {x} onto the {r}.", "Could you get the {x} and leave it on the {r}?",
         "The {x} belongs on the {r}; put it there."),
    ),
    "door_bring": (
        ("Open the {d} and bring the {x} to the {r}.", "First open the {d}, then put the {x} on the {r}."),
        ("Open the {d}, pick up the {x} and place it on the {r}.",
         "Get through the {d} by opening it, then carry the {x} to the {r}."),
    ),
    "next_action": (
        ('Your task: "{task}" The video shows what you have done up to its last frame. What should you do next?',
         'Task: "{task}" Based on the video up to its last frame, which step comes next?'),
        ('You are working on: "{task}" Judging from the video up to its final frame, what is the next step?',
         'Goal: "{task}" Given what the video shows so far, what do you do now?'),
    ),
    "task_process": (
        ('Your task: "{task}" Based on the video up to its last frame, which of the following describes what you '
         "have done so far, in the order you did it?",
         'Task: "{task}" Which sequence lists the steps completed by the last frame of the video, in order?'),
        ('You are working on: "{task}" Which list gives, in order, the steps already finished at the end of the '
         "video?",
         'Goal: "{task}" Up to the final frame, what has been accomplished, step by step?'),
    ),
    "direction": (
        ("Relative to the direction you are facing now, in which direction is the {o}?",
         "Where is the {o} relative to you, given the way you are facing now?"),
        ("From your current heading, which way would you have to look to see the {o}?",
         "Taking your current facing direction as front, where does the {o} lie?"),
    ),
    "route": (
        ("You need to get to the {o}. Which route, starting from your current view, leads there?",
         "Which of these routes takes you from where you stand now to the {o}?"),
        ("Starting from this view, how do you walk to the {o}?",
         "Pick the directions that bring you from here to the {o}."),
    ),
    "localization": (
        ("Based on the video, where was the {o} when you first saw it?",
         "In the video, where was the {o} at the moment it first appeared?"),
        ("Where did the {o} sit when it first came into view in the video?",
         "Recall the video: where was the {o} located when you first spotted it?"),
    ),
    "point": (
        ("Point to {o} in the current image.", "Where is {o} in the current image? Give one point on it."),
        ("Mark a single point on {o} in this image.", "Indicate {o} in the image with one point."),
    ),
    "box": (
        ("Locate {o} in the current image with a bounding box.", "Draw a bounding box around {o} in the current image."),
        ("Give the box that encloses {o} in this image.", "Outline {o} in the image with a tight box."),
    ),
    "trajectory": (
        ("Three arrows (red, green and blue) are drawn from your gripper at the bottom of the current image. "
         "Which arrow shows the direction the gripper should move to reach the {o}?",
         "Your gripper sits at the bottom of the current image, where three coloured arrows (red, green, blue) "
         "start. Which arrow leads the gripper to the {o}?"),
        ("From the gripper at the bottom of the image start a red, a green and a blue arrow. Along which one "
         "should the gripper move to get to the {o}?",
         "Which of the three arrows (red, green, blue) starting at your gripper points the way to the {o}?"),
    ),
}


def phrase(kind: str, split: str, rng: random.Random, **fields: str) -> str:
    """One template of ``kind`` for ``split`` (held-out wording for ``ood``), filled in."""
    in_domain, held_out = TEMPLATES[kind]
    return rng.choice(held_out if split == "ood" else in_domain).format(**fields)
