#!/bin/sh
# A complete answer, then its output closed while it runs on for 30 s.
printf 'Content-Type: text/plain\n\ndone early\n'
exec >&-
sleep 30
