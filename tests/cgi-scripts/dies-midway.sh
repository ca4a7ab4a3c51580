#!/bin/sh
# A head and part of a body, then killed by SIGKILL before it is done.
printf 'Content-Type: text/plain\n\n'
echo "first half"
sleep 0.2
kill -9 $$
echo "second half, never written"
