"""
Running the server: twistd services, listening, the demo page, lookups.
"""
