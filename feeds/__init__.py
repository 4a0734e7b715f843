"""Getting opportunities in: fetch feeds, parse entries, extract deadlines, store them.

Nothing in this package imports Flask; the web app and the command line call into it.
"""
