#!/bin/sh
# A header line without a colon.
printf 'Content-Type text/plain\n\nbody\n'
