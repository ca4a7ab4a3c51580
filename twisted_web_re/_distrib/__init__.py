"""
The spreadable web: a front server relays requests over Perspective Broker to
personal servers (see C{twisted_web_re.distrib} and C{doc/distrib.md}).
"""
