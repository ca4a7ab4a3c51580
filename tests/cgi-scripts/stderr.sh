#!/bin/sh
# Two lines on standard error, then a normal answer.
echo "first complaint from stderr.sh" >&2
echo "second complaint from stderr.sh" >&2
printf 'Content-Type: text/plain\n\nfine\n'
