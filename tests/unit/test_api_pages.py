"""The page and action envelopes, and the login form, byte for byte."""

from api.pages import action, login_page, page

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def test_the_login_form() -> None:
    assert login_page() == (
        f"{HEAD}<page>\n <pagename>Login page</pagename>\n <language>en</language>\n"
        " <error_msg></error_msg>\n <aval_languages>\n  <language>en</language>\n"
        " </aval_languages>\n</page>\n")


def test_the_login_form_says_why_it_is_shown() -> None:
    assert " <error_msg>Please log in &amp; retry</error_msg>\n" in login_page(
        "Please log in & retry")


def test_a_page_names_itself_and_its_user() -> None:
    assert page("Phonebook", " <entries></entries>\n", user_id=2) == (
        f"{HEAD}<page>\n <pagename>Phonebook</pagename>\n <language>en</language>\n"
        " <userid>2</userid>\n <entries></entries>\n</page>\n")


def test_actions_succeed_or_fail_with_an_escaped_message() -> None:
    assert action("add_cli", True, "CLI created") == (
        f"{HEAD}<action>\n <name>add_cli</name>\n <status>ok</status>\n"
        " <status_message>CLI created</status_message>\n</action>\n")
    assert action("login", False, "We're <sorry>") == (
        f"{HEAD}<action>\n <name>login</name>\n <status>failed</status>\n"
        " <status_message>We're &lt;sorry&gt;</status_message>\n</action>\n")
