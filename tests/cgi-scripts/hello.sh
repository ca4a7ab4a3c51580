#!/bin/sh
# The smallest CGI program: a Content-Type, the empty line, a body.
printf 'Content-Type: text/plain\n\nHello from sh\n'
