"""What higher apps add to a checklist item that has a message to post, without checklists
importing them (automations: "Send to the group" through the community's outlet).

A higher app registers, in its ``AppConfig.ready``:

    from checklists.item_actions import ItemAction, register_item_action
    register_item_action(ItemAction(key="…", template="…/x.html", context=build))

``build(request, rows)`` gets every row shown on the page that has a message (``ItemRow``
of ``checklists.selectors.mine``) and returns ``{run item id: context}`` for the rows it
adds something to; the template is included in the item with that context as ``action``.
It must cost a constant number of queries whatever the number of rows (My checklists pins
its count), and none when ``rows`` is empty. With nothing registered the items show their
message and the Copy button, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.http import HttpRequest

ActionContext = Callable[[HttpRequest, list], dict[int, dict]]


@dataclass(frozen=True)
class ItemAction:
    key: str
    template: str
    context: ActionContext
    order: int = 100


@dataclass(frozen=True)
class RenderedItemAction:
    key: str
    template: str
    context: dict


_ACTIONS: dict[str, ItemAction] = {}


def register_item_action(action: ItemAction) -> None:
    """Add (or, under the same key, replace) an action of items with a message."""
    _ACTIONS[action.key] = action


def attach(request: HttpRequest, cards: Iterable) -> None:
    """Fill ``row.actions`` of the cards' rows that have a message."""
    rows = [row for card in cards for row in card.rows if row.message]
    if not rows or not _ACTIONS:
        return
    by_id = {row.item.pk: row for row in rows}
    for action in sorted(_ACTIONS.values(), key=lambda a: (a.order, a.key)):
        for item_id, context in action.context(request, rows).items():
            if item_id in by_id:
                by_id[item_id].actions.append(
                    RenderedItemAction(action.key, action.template, context)
                )
