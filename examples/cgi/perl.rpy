"""
The resource script of the Twisted Web howto ("Serving PHP/Perl/CGI") that
serves a site of Perl scripts, in twisted_web_re's names.

Every file ending in .pl in the perlsite/ directory beside this script is run
by the Perl interpreter as a CGI program, and a directory is rendered by its
index.pl.  Serve this directory and visit /perl.rpy/:

    twistd -n web-re --path examples/cgi

C{__file__} is put in the script's namespace by the server.
"""

import os

from twisted_web_re import static, twcgi


class PerlScript(twcgi.FilteredScript):
    filter = "/usr/bin/perl"  # Points to the perl parser


# Points to the perl website (the howto's /perlsite)
resource = static.File(os.path.join(os.path.dirname(__file__), "perlsite"))
resource.processors = {".pl": PerlScript}  # Files that end with .pl will be
# processed by PerlScript
resource.indexNames = ["index.pl"]
