"""The one error type of the application layer: a problem the user can fix, said in one line.

It lives apart from `cli` so that the modules `cli` itself uses (`files`) can raise it too;
`cli` re-exports it, and most modules import it from there.
"""


class UserError(Exception):
    """A problem with the user's input, reported as one line."""


def first_line(error: BaseException) -> str:
    """What went wrong, in one line: the first line of the message, or the error's type when it has
    none (an empty file read by pickle raises a bare EOFError)."""
    return (str(error).splitlines() or [type(error).__name__])[0]
