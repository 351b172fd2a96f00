"""お知らせ (notices): agencies write to a person they know only by their own 符号, or to a segment (everyone, or
the residents of one municipality); the resident reads them in the portal with read state. Recipients are stored
as the hub's keyed blind index of the person, never as a My Number or a registry person id."""

from __future__ import annotations

from tsunagu.linkage.notices.rules import (
    MAX_BODY,
    MAX_LINK,
    MAX_TITLE,
    Audience,
    NoticeText,
    Segment,
    parse_segment,
)
from tsunagu.linkage.notices.services import (
    NoticeNotFound,
    NoticeSent,
    NoticeView,
    inbox,
    mark_read,
    notice_for,
    seed_demo_notices,
    send_to_code,
    send_to_segment,
    unread_count,
)

__all__ = [
    "MAX_BODY",
    "MAX_LINK",
    "MAX_TITLE",
    "Audience",
    "NoticeNotFound",
    "NoticeSent",
    "NoticeText",
    "NoticeView",
    "Segment",
    "inbox",
    "mark_read",
    "notice_for",
    "parse_segment",
    "seed_demo_notices",
    "send_to_code",
    "send_to_segment",
    "unread_count",
]
