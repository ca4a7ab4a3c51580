#!/bin/sh
# A head, then a line every 50 ms for 20 s; its pid on standard error.
echo "slow.sh pid=$$" >&2
printf 'Content-Type: text/plain\n\n'
i=0
while [ $i -lt 400 ]; do
    echo "line $i"
    i=$((i + 1))
    sleep 0.05
done
