"""The one error type of the application layer: a problem the user can fix, said in one line.

It lives apart from `cli` so that the modules `cli` itself uses (`files`) can raise it too;
`cli` re-exports it, and most modules import it from there.
"""


class UserError(Exception):
    """A problem with the user's input, reported as one line."""
