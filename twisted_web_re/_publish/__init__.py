"""
The request: the low-level HTTP request and everything object publishing
does with it (forms, sessions, conditionals and ranges, content codings,
typed headers, error and traceback pages).
"""
