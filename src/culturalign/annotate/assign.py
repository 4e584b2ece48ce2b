"""Who annotates what: every item gets ``per_item`` different annotators, and loads stay
even as people join.

Two passes, both inside one transaction. *Fill* gives each item that has fewer than
``per_item`` annotators the least-loaded people who do not hold it yet. *Balance* then
moves work from the most-loaded to the least-loaded annotator until no two loads differ by
more than one, or nothing more may move. Only unstarted work moves: an assignment on
which its holder has submitted anything stays where it is, and nobody is ever given an
item they already hold (so ``per_item`` copies stay with ``per_item`` different people).
The donor gives up the items it would reach last (highest item id), so whatever a person
is about to open next stays theirs.

Routing: an annotator who declared cultures or languages (``team.Skills``) is only ever
given items they can judge, in both passes; an unstarted assignment they can no longer
judge (their profile or the item changed) is withdrawn first. Loads are then even among
the people who can take the same items, which is as even as routing allows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select

from culturalign.annotate import db
from culturalign.annotate.team import Skills, load_skills


@dataclass
class AssignResult:
    added: int = 0  # new links for items that had fewer than per_item annotators
    moved: int = 0  # unstarted links handed from a busy annotator to a less busy one
    withdrawn: int = 0  # unstarted links to people who can no longer judge the item
    unrouted: int = 0  # items for which fewer than per_item annotators can judge them


def assign_items(conn: Connection, per_item: int, stamp: str) -> AssignResult:
    a, s = db.assignments, db.annotators
    result = AssignResult()
    people = [r.id for r in conn.execute(select(s.c.id).where(s.c.role == "annotator").order_by(s.c.id))]
    if not people:
        return result
    skills = load_skills(conn)
    contents = _contents(conn)

    def can(person: int, item_id: int) -> bool:
        return skills.get(person, Skills()).can_judge(contents.get(item_id, {}))

    started = {
        (r.annotator_id, r.item_id)
        for r in conn.execute(select(db.submissions.c.annotator_id, db.submissions.c.item_id).distinct())
    }
    held: dict[int, set[int]] = {p: set() for p in people}  # annotator -> items
    holders: dict[int, set[int]] = {}  # item -> annotators (anyone, coordinators included)
    for r in list(conn.execute(select(a.c.annotator_id, a.c.item_id))):  # rows may be deleted below
        if (
            r.annotator_id in held
            and not can(r.annotator_id, r.item_id)
            and (r.annotator_id, r.item_id) not in started
        ):
            conn.execute(delete(a).where(a.c.annotator_id == r.annotator_id, a.c.item_id == r.item_id))
            result.withdrawn += 1
            continue
        holders.setdefault(r.item_id, set()).add(r.annotator_id)
        if r.annotator_id in held:
            held[r.annotator_id].add(r.item_id)

    for item_id in sorted(contents):
        have = holders.setdefault(item_id, set())
        free = sorted(
            (p for p in people if p not in have and can(p, item_id)), key=lambda p: (len(held[p]), p)
        )
        wanted = max(0, per_item - len(have))
        if len(free) < wanted:
            result.unrouted += 1
        for person in free[:wanted]:
            conn.execute(insert(a).values(annotator_id=person, item_id=item_id, assigned_at=stamp))
            held[person].add(item_id)
            have.add(person)
            result.added += 1

    while (move := _next_move(people, held, started, can)) is not None:
        donor, taker, item_ids = move
        for item_id in item_ids:
            conn.execute(delete(a).where(a.c.annotator_id == donor, a.c.item_id == item_id))
            conn.execute(insert(a).values(annotator_id=taker, item_id=item_id, assigned_at=stamp))
            held[donor].discard(item_id)
            held[taker].add(item_id)
        result.moved += len(item_ids)
    return result


def _contents(conn: Connection) -> dict[int, dict]:
    """item id → its current content (culture and language are what routing reads)."""
    i, v = db.items, db.item_versions
    q = select(i.c.id, v.c.content).join(v, (v.c.item_id == i.c.id) & (v.c.version == i.c.version))
    return {r.id: json.loads(r.content) for r in conn.execute(q)}


def _next_move(
    people: list[int], held: dict[int, set[int]], started: set[tuple[int, int]], can=None
) -> tuple[int, int, list[int]] | None:
    """(donor, taker, items) for the busiest donor and least busy taker whose loads differ
    by two or more: as many of the donor's movable items (that the taker does not hold) as
    bring both toward an even share, at least one and at most half the gap. None when
    loads are as even as the rules allow. Each move lowers the sum of squared loads, so
    repeating it ends; moving a batch at once keeps large imports fast."""
    by_load = sorted(people, key=lambda p: (len(held[p]), p))
    base, extra = divmod(sum(len(held[p]) for p in people), len(people))
    target = {p: base + (k >= len(people) - extra) for k, p in enumerate(by_load)}
    for donor in reversed(by_load):
        movable = sorted((i for i in held[donor] if (donor, i) not in started), reverse=True)
        if not movable:
            continue
        for taker in by_load:
            gap = len(held[donor]) - len(held[taker])
            if gap < 2:
                break
            wanted = min(gap // 2, len(held[donor]) - target[donor], target[taker] - len(held[taker]))
            items = [i for i in movable if i not in held[taker] and (can is None or can(taker, i))]
            items = items[: max(1, wanted)]
            if items:
                return donor, taker, items
    return None
