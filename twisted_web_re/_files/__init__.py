"""
Static files: MIME types, directory listings, the file producer, .asis.
"""
