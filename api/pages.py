"""The envelopes of MOR's pages (`<page>`) and page actions (`<action>`)."""

from __future__ import annotations

from api.xml import DECLARATION, escape

LANGUAGES = ("en",)  # cdrflow speaks English only; MOR's list may also hold ru


def page(pagename: str, body: str, *, user_id: int | None = None, language: str = "en") -> str:
    """`<page>` with its name, language and (when given) the user id, then `body` (lines
    already indented by one space)."""
    userid = f" <userid>{user_id}</userid>\n" if user_id is not None else ""
    return (f"{DECLARATION}<page>\n <pagename>{escape(pagename)}</pagename>\n"
            f" <language>{escape(language)}</language>\n{userid}{body}</page>\n")


def action(name: str, ok: bool, message: str, *, extra: str = "") -> str:
    """MOR's answer to a page action: `<action>` with name, status and message."""
    return (f"{DECLARATION}<action>\n <name>{escape(name)}</name>\n"
            f" <status>{'ok' if ok else 'failed'}</status>\n{extra}"
            f" <status_message>{escape(message)}</status_message>\n</action>\n")


def login_page(error: str = "") -> str:
    languages = "".join(f"  <language>{language}</language>\n" for language in LANGUAGES)
    return page("Login page", f" <error_msg>{escape(error)}</error_msg>\n"
                              f" <aval_languages>\n{languages} </aval_languages>\n")
