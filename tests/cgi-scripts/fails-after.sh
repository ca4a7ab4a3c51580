#!/bin/sh
# A complete, short answer, then exit status 3: the output may be cut.
printf 'Content-Type: text/plain\n\nall of it\n'
exit 3
